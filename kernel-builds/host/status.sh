#!/usr/bin/env bash
# Reads back everything netmap-testbed keeps on a host, in one go, and prints it as ONE JSON
# object: loaded modules (sysfs + modinfo), netmap's parameters, every interface's driver, the
# raw VALE listing, running VMs (systemd units, pidfiles and a /proc scan) with their QEMU argv,
# netmap build stamps, installed QEMU prefixes. Changes nothing (no locks, no temp files, only
# reads; vale-ctl is run for its listing only, never with -g).
#
# Self-contained on purpose: `netmap-testbed status` pipes this file to `bash -s` over SSH, so it
# works before (and without) the script bundle is installed and cannot source lib/common.sh.
# Everything runs with stdin from /dev/null: under `bash -s` stdin is the script itself.
set -euo pipefail
# Bytes, not characters: patterns, ranges and sort order do not depend on the host's locale.
export LC_ALL=C

usage() {
  cat <<'USAGE'
usage: status.sh [--module NAME]... [--qemu-prefix PATH]... [--vale-ctl PATH]

  --module NAME       also report this kernel module (netmap, the modules holding netmap, the
                      drivers of all interfaces and the modules load.sh swapped are always reported)
  --qemu-prefix PATH  also report this QEMU install prefix (those under $NMTB_OPT_DIR/qemu/ always are)
  --vale-ctl PATH     vale-ctl binary (default: $NMTB_VALE_CTL, vale-ctl on PATH, $NMTB_OPT_DIR/bin/vale-ctl;
                      none found = "vale": null)

environment (defaults; tests point them at fake trees):
  NMTB_STATE_DIR /var/lib/netmap-testbed   NMTB_OPT_DIR /opt/netmap-testbed
  NMTB_CACHE_DIR /var/cache/netmap-testbed NMTB_SYSTEMD_DIR /etc/systemd/system
  NMTB_SYS_MODULE /sys/module              NMTB_SYS_CLASS_NET /sys/class/net
  NMTB_PROC /proc                          NMTB_KERNEL_RELEASE (uname -r)
  NMTB_VALE_CTL (see --vale-ctl)
stdout: {"schema":"netmap-testbed/host-status/v1","hostname","kernelRelease","paths":{…},
         "netmap":{"loaded","refcnt","holders","params":{NAME:VALUE},"devNetmap"},
         "modules":[{"name","loaded","builtin","initstate","version","srcversion","refcnt","holders",
                     "usesNetmap","file":{"path","version","srcversion","depends","vermagic"}|null}],
         "interfaces":[{"name","driver","module","kind","usesNetmap","operstate"}],
         "vale":{"valeCtl","stdout","stderr","exitCode"}|null,
         "vms":[{"name","dir","unit","unitActive","recordedArgv","processes":[{"pid","interpreter","argv"}]}],
         "netmapBuilds":[{"key","dir","fingerprint","modules","current"}],
         "qemuPrefixes":[{"prefix","stamped","configKey","commit","source","binary","executable"}],
         "recorded":{"loadArgs","installedModules","touchedModules","persistent"}}
exit: 0 (whatever the host's state), 2 on bad arguments
USAGE
}

STATE_DIR="${NMTB_STATE_DIR:-/var/lib/netmap-testbed}"
OPT_DIR="${NMTB_OPT_DIR:-/opt/netmap-testbed}"
CACHE_DIR="${NMTB_CACHE_DIR:-/var/cache/netmap-testbed}"
SYSTEMD_DIR="${NMTB_SYSTEMD_DIR:-/etc/systemd/system}"
SYS_MODULE="${NMTB_SYS_MODULE:-/sys/module}"
SYS_CLASS_NET="${NMTB_SYS_CLASS_NET:-/sys/class/net}"
PROC="${NMTB_PROC:-/proc}"

usage_error() {
  printf 'status.sh: %s\n' "$*" >&2
  usage >&2
  exit 2
}

# ---------------------------------------------------------------- JSON (no jq needed)

json_str() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  # Other control characters are dropped rather than escaped (byte ranges: LC_ALL=C below).
  s="${s//[$'\001'-$'\037']/}"
  printf '"%s"' "$s"
}

json_str_or_null() {
  if [[ -n $1 ]]; then json_str "$1"; else printf 'null'; fi
}

json_array() {
  local first=1 item
  printf '['
  for item in "$@"; do
    ((first)) || printf ','
    first=0
    json_str "$item"
  done
  printf ']'
}

json_bool() {
  if [[ $1 == 1 ]]; then printf 'true'; else printf 'false'; fi
}

json_uint_or_null() {
  if [[ $1 =~ ^[0-9]{1,18}$ ]]; then printf '%s' "$((10#$1))"; else printf 'null'; fi
}

# A file's content (first line, trailing whitespace trimmed), or nothing.
read_line() {
  local line=""
  [[ -f $1 && -r $1 ]] || return 0
  IFS= read -r line <"$1" || true
  printf '%s' "${line%"${line##*[![:space:]]}"}"
}

# A NUL-separated file (argv, /proc/PID/cmdline) as a JSON array; null when absent.
json_nul_file() {
  local -a items=()
  if [[ -f $1 && -r $1 ]]; then
    mapfile -d '' -t items <"$1" 2>/dev/null || true
    json_array "${items[@]}"
  else
    printf 'null'
  fi
}

# A newline-separated file as a JSON array; null when absent.
json_lines_file() {
  local -a items=()
  if [[ -f $1 && -r $1 ]]; then
    mapfile -t items <"$1" 2>/dev/null || true
    local -a kept=()
    local item
    for item in "${items[@]}"; do [[ -z $item ]] || kept+=("$item"); done
    json_array "${kept[@]}"
  else
    printf 'null'
  fi
}

have() {
  command -v "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------- modules

sysname() {
  printf '%s' "${1//-/_}"
}

module_loaded() {
  [[ -e "$SYS_MODULE/$(sysname "$1")/initstate" ]]
}

# Names of the modules holding $1 (sysfs holders/), one per line.
module_holders() {
  local h
  for h in "$SYS_MODULE/$(sysname "$1")/holders"/*; do
    [[ -e $h || -L $h ]] && printf '%s\n' "${h##*/}"
  done
  return 0
}

uses_netmap() {
  [[ -e "$SYS_MODULE/netmap/holders/$(sysname "$1")" || -L "$SYS_MODULE/netmap/holders/$(sysname "$1")" ]]
}

# modinfo's view of the file modprobe would load for the running kernel.
module_file_json() {
  local m="$1" out line key value path="" version="" srcversion="" depends="" vermagic=""
  if ! have modinfo || ! out="$(modinfo -k "$RELEASE" "$m" 2>/dev/null </dev/null)"; then
    printf 'null'
    return 0
  fi
  while IFS= read -r line; do
    key="${line%%:*}"
    value="${line#*:}"
    value="${value#"${value%%[![:space:]]*}"}"
    case "$key" in
      filename) path="$value" ;;
      version) version="$value" ;;
      srcversion) srcversion="$value" ;;
      depends) depends="$value" ;;
      vermagic) vermagic="$value" ;;
    esac
  done <<<"$out"
  [[ -n $path ]] || {
    printf 'null'
    return 0
  }
  local -a deps=()
  [[ -z $depends ]] || IFS=, read -r -a deps <<<"$depends"
  printf '{"path":%s,"version":%s,"srcversion":%s,"depends":%s,"vermagic":%s}' "$(json_str "$path")" \
    "$(json_str_or_null "$version")" "$(json_str_or_null "$srcversion")" "$(json_array "${deps[@]}")" \
    "$(json_str_or_null "$vermagic")"
}

module_json() {
  local m sys loaded=0 builtin=0
  m="$(sysname "$1")"
  sys="$SYS_MODULE/$m"
  if [[ -e $sys/initstate ]]; then
    loaded=1
  elif [[ -d $sys ]]; then
    # Built into the kernel: a /sys/module entry (parameters) without initstate.
    builtin=1
  fi
  local -a holders=()
  mapfile -t holders < <(module_holders "$m")
  printf '{"name":%s,"loaded":%s,"builtin":%s,"initstate":%s,"version":%s,"srcversion":%s,"refcnt":%s,"holders":%s,"usesNetmap":%s,"file":%s}' \
    "$(json_str "$m")" "$(json_bool "$loaded")" "$(json_bool "$builtin")" \
    "$(json_str_or_null "$(read_line "$sys/initstate")")" "$(json_str_or_null "$(read_line "$sys/version")")" \
    "$(json_str_or_null "$(read_line "$sys/srcversion")")" "$(json_uint_or_null "$(read_line "$sys/refcnt")")" \
    "$(json_array "${holders[@]}")" "$(json_bool "$(uses_netmap "$m" && echo 1 || echo 0)")" "$(module_file_json "$m")"
}

# ---------------------------------------------------------------- interfaces

# Sets IF_DRIVER, IF_MODULE, IF_KIND for an interface. Physical NICs: the driver link in sysfs
# (and its module link; built-in drivers have none). Virtual devices: the rtnl link kind.
iface_driver() {
  local ifname="$1" link
  IF_DRIVER="" IF_MODULE="" IF_KIND=""
  if [[ -e $SYS_CLASS_NET/$ifname/device/driver ]]; then
    link="$(readlink -f "$SYS_CLASS_NET/$ifname/device/driver" 2>/dev/null || true)"
    IF_DRIVER="${link##*/}"
    if link="$(readlink -f "$SYS_CLASS_NET/$ifname/device/driver/module" 2>/dev/null)" && [[ -n $link && -d $link ]]; then
      IF_MODULE="${link##*/}"
    fi
    return 0
  fi
  if have ip; then
    IF_KIND="$(ip -d -j link show dev "$ifname" 2>/dev/null </dev/null | sed -n 's/.*"info_kind":"\([A-Za-z0-9_]*\)".*/\1/p' | head -n1 || true)"
  fi
}

# ---------------------------------------------------------------- VMs

VMS_ROOT="$STATE_DIR/vms"
declare -A VM_SEEN=()
declare -a VM_NAMES=()
declare -A VM_PIDS=()

add_vm() {
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ ]] || return 0
  if [[ -z ${VM_SEEN[$1]:-} ]]; then
    VM_SEEN[$1]=1
    VM_NAMES+=("$1")
  fi
}

add_vm_pid() {
  local vm="$1" pid="$2"
  [[ $pid =~ ^[0-9]+$ && $pid != 0 ]] || return 0
  add_vm "$vm"
  [[ " ${VM_PIDS[$vm]:-} " == *" $pid "* ]] || VM_PIDS[$vm]="${VM_PIDS[$vm]:-} $pid"
}

systemd_running() {
  [[ -d /run/systemd/system ]] && have systemctl
}

# The VM a process belongs to: the NAME in an argument naming $VMS_ROOT/NAME/…, if its argv
# looks like a QEMU (argv[0], or argv[1] after a #! interpreter, named qemu-system-*).
vm_of_process() {
  local cmdline="$1" arg rest name=""
  local -a argv=()
  mapfile -d '' -t argv <"$cmdline" 2>/dev/null || return 1
  ((${#argv[@]} > 0)) || return 1
  if [[ ${argv[0]##*/} != qemu-system-* && ${argv[1]:-} != */qemu-system-* && ${argv[1]:-} != qemu-system-* ]]; then
    return 1
  fi
  for arg in "${argv[@]}"; do
    if [[ $arg == *"$VMS_ROOT/"?* ]]; then
      rest="${arg#*"$VMS_ROOT/"}"
      name="${rest%%/*}"
      break
    fi
  done
  [[ -n $name ]] || return 1
  printf '%s' "$name"
}

collect_vms() {
  local d f name pid unit
  for d in "$VMS_ROOT"/*/; do
    [[ -d $d ]] || continue
    d="${d%/}"
    add_vm "${d##*/}"
  done
  for f in "$SYSTEMD_DIR"/netmap-testbed-vm-*.service; do
    [[ -f $f ]] || continue
    name="${f##*/netmap-testbed-vm-}"
    add_vm "${name%.service}"
  done
  # Processes whose command line names a VM directory (the pattern goes through a file descriptor
  # so grep's own command line does not match it).
  local -a hits=()
  if [[ -d $PROC ]]; then
    mapfile -t hits < <(grep -lsF -f <(printf '%s/\n' "$VMS_ROOT") "$PROC"/[0-9]*/cmdline 2>/dev/null </dev/null || true)
  fi
  for f in "${hits[@]}"; do
    pid="${f#"$PROC"/}"
    pid="${pid%/cmdline}"
    [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
    if name="$(vm_of_process "$f")"; then add_vm_pid "$name" "$pid"; fi
  done
  # Pidfiles and systemd's MainPID (as vm.sh does): the process must name this VM's QMP socket.
  for name in "${VM_NAMES[@]}"; do
    local -a pids=()
    pid="$(read_line "$VMS_ROOT/$name/qemu.pid")"
    pid="${pid//[!0-9]/}"
    [[ -z $pid ]] || pids+=("$pid")
    unit="netmap-testbed-vm-$name.service"
    if systemd_running && [[ -f $SYSTEMD_DIR/$unit ]]; then
      pid="$(systemctl show -p MainPID --value "$unit" 2>/dev/null </dev/null || true)"
      [[ -z $pid || $pid == 0 ]] || pids+=("$pid")
    fi
    for pid in "${pids[@]}"; do
      [[ -r $PROC/$pid/cmdline ]] || continue
      tr '\0' '\n' <"$PROC/$pid/cmdline" 2>/dev/null | grep -qF "unix:$VMS_ROOT/$name/qmp.sock," || continue
      add_vm_pid "$name" "$pid"
    done
  done
}

process_json() {
  local pid="$1" i start=0
  local -a argv=()
  mapfile -d '' -t argv <"$PROC/$pid/cmdline" 2>/dev/null || true
  # A QEMU started through a #! interpreter (a test double) shows the interpreter first.
  if ((${#argv[@]} > 1)) && [[ ${argv[0]##*/} != qemu-system-* ]]; then
    for ((i = 1; i < ${#argv[@]} && i < 3; i++)); do
      if [[ ${argv[i]##*/} == qemu-system-* ]]; then
        start=$i
        break
      fi
    done
  fi
  printf '{"pid":%s,"interpreter":%s,"argv":%s}' "$pid" "$(json_array "${argv[@]:0:start}")" \
    "$(json_array "${argv[@]:start}")"
}

vm_json() {
  local name="$1" dir="$VMS_ROOT/$1" unit="netmap-testbed-vm-$1.service" active="" pid first=1
  if systemd_running && [[ -f $SYSTEMD_DIR/$unit ]]; then
    active="$(systemctl is-active "$unit" 2>/dev/null </dev/null || true)"
  fi
  printf '{"name":%s,"dir":%s,"unit":%s,"unitActive":%s,"recordedArgv":%s,"processes":[' "$(json_str "$name")" \
    "$([[ -d $dir ]] && json_str "$dir" || printf 'null')" \
    "$([[ -f $SYSTEMD_DIR/$unit ]] && json_str "$unit" || printf 'null')" "$(json_str_or_null "$active")" \
    "$(json_nul_file "$dir/argv")"
  for pid in ${VM_PIDS[$name]:-}; do
    [[ -r $PROC/$pid/cmdline ]] || continue
    ((first)) || printf ','
    first=0
    process_json "$pid"
  done
  printf ']}'
}

# ---------------------------------------------------------------- builds

netmap_builds_json() {
  local stamp dir first=1 current ko
  current="$(read_line "$STATE_DIR/netmap/build-dir.$RELEASE")"
  printf '['
  for stamp in "$CACHE_DIR/build"/*/.nmtb-built; do
    [[ -f $stamp ]] || continue
    dir="${stamp%/.nmtb-built}"
    local -a mods=()
    while IFS= read -r ko; do
      [[ -n $ko ]] && mods+=("$(basename "$ko" .ko)")
    done < <(find "$dir" -path "$dir/netmap-tmpdir" -prune -o -type f -name '*.ko' -print 2>/dev/null </dev/null | LC_ALL=C sort)
    ((first)) || printf ','
    first=0
    printf '{"key":%s,"dir":%s,"fingerprint":%s,"modules":%s,"current":%s}' "$(json_str "${dir##*/}")" \
      "$(json_str "$dir")" "$(json_str_or_null "$(read_line "$stamp")")" "$(json_array "${mods[@]}")" \
      "$(json_bool "$([[ $dir == "$current" ]] && echo 1 || echo 0)")"
  done
  printf ']'
}

qemu_prefixes_json() {
  local p first=1 stamp binary
  local -a prefixes=()
  declare -A seen=()
  for p in "$OPT_DIR/qemu"/*/; do
    [[ -d $p ]] && prefixes+=("${p%/}")
  done
  prefixes+=("${EXTRA_PREFIXES[@]}")
  printf '['
  for p in "${prefixes[@]}"; do
    [[ -z ${seen[$p]:-} ]] || continue
    seen[$p]=1
    stamp="$p/.netmap-testbed-stamp"
    binary="$p/bin/qemu-system-x86_64"
    local -a fields=()
    [[ ! -f $stamp ]] || mapfile -t fields < <(head -n 3 "$stamp" 2>/dev/null)
    ((first)) || printf ','
    first=0
    printf '{"prefix":%s,"exists":%s,"stamped":%s,"configKey":%s,"commit":%s,"source":%s,"binary":%s,"executable":%s}' \
      "$(json_str "$p")" "$(json_bool "$([[ -d $p ]] && echo 1 || echo 0)")" \
      "$(json_bool "$([[ -f $stamp ]] && echo 1 || echo 0)")" \
      "$(json_str_or_null "${fields[0]:-}")" "$(json_str_or_null "$([[ ${fields[1]:-} != - ]] && printf '%s' "${fields[1]:-}")")" \
      "$(json_str_or_null "${fields[2]:-}")" "$(json_str "$binary")" \
      "$(json_bool "$([[ -x $binary ]] && echo 1 || echo 0)")"
  done
  printf ']'
}

# ---------------------------------------------------------------- VALE

find_vale_ctl() {
  local found
  for found in "$VALE_CTL_ARG" "${NMTB_VALE_CTL:-}"; do
    if [[ -n $found ]]; then
      [[ -x $found ]] && printf '%s' "$found"
      return 0
    fi
  done
  if found="$(command -v vale-ctl 2>/dev/null)" && [[ -n $found ]]; then
    printf '%s' "$found"
  elif [[ -x $OPT_DIR/bin/vale-ctl ]]; then
    printf '%s' "$OPT_DIR/bin/vale-ctl"
  fi
}

# The listing as vale-ctl printed it: stdout, stderr and exit code (it exits 1 even on success),
# so the caller parses it with the same parser as everywhere else.
vale_json() {
  local vc out err rc=0
  vc="$(find_vale_ctl)"
  if [[ -z $vc ]]; then
    printf 'null'
    return 0
  fi
  local -a runner=()
  have timeout && runner=(timeout 20)
  # stdout and stderr apart without a temporary file: each line tagged O/E on one pipe (sed -u:
  # one write per line, so the two writers never split a line), then the exit code as X<code>.
  local tagged line out="" err="" rc=""
  # shellcheck disable=SC1003 # sed's "$a\" appends a newline to a last line that lacks one
  tagged="$(
    exec 5>&1
    {
      {
        "${runner[@]}" "$vc" </dev/null 2>&6 6>&-
        printf 'X%s\n' "$?" >&5
      } | sed -u -e 's/^/O/' -e '$a\' >&5
    } 6> >(sed -u -e 's/^/E/' -e '$a\' >&5)
  )" || true
  while IFS= read -r line; do
    case "$line" in
      O*) out+="${line:1}"$'\n' ;;
      E*) err+="${line:1}"$'\n' ;;
      X*) rc="${line:1}" ;;
    esac
  done <<<"$tagged"
  printf '{"valeCtl":%s,"stdout":%s,"stderr":%s,"exitCode":%s}' "$(json_str "$vc")" "$(json_str "$out")" \
    "$(json_str "$err")" "$(json_uint_or_null "$rc")"
}

# ---------------------------------------------------------------- main

main() {
  local m f first
  declare -gA MODULE_SEEN=()
  declare -ga MODULE_LIST=()
  add_module() {
    local s
    s="$(sysname "$1")"
    [[ $s =~ ^[A-Za-z0-9_]{1,56}$ ]] || return 0
    [[ -z ${MODULE_SEEN[$s]:-} ]] || return 0
    MODULE_SEEN[$s]=1
    MODULE_LIST+=("$s")
  }

  RELEASE="${NMTB_KERNEL_RELEASE:-$(uname -r)}"
  local host
  host="$(read_line /proc/sys/kernel/hostname)"
  [[ -n $host ]] || host="$(hostname 2>/dev/null || true)"

  # netmap
  local netmap_loaded=0
  module_loaded netmap && netmap_loaded=1
  local params="{" pfirst=1 value
  if [[ -d $SYS_MODULE/netmap/parameters ]]; then
    for f in "$SYS_MODULE/netmap/parameters"/*; do
      [[ -f $f && -r $f ]] || continue
      value="$(read_line "$f")"
      ((pfirst)) || params+=","
      pfirst=0
      params+="$(json_str "${f##*/}"):$(json_str "$value")"
    done
  fi
  params+="}"
  local -a netmap_holders=()
  mapfile -t netmap_holders < <(module_holders netmap)

  # interfaces (and their drivers' modules)
  local ifaces="[" ifirst=1 path name
  for path in "$SYS_CLASS_NET"/*; do
    [[ -e $path || -L $path ]] || continue
    name="${path##*/}"
    [[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,31}$ ]] || continue
    iface_driver "$name"
    [[ -z $IF_MODULE ]] || add_module "$IF_MODULE"
    ((ifirst)) || ifaces+=","
    ifirst=0
    ifaces+="$(printf '{"name":%s,"driver":%s,"module":%s,"kind":%s,"usesNetmap":%s,"operstate":%s}' \
      "$(json_str "$name")" "$(json_str_or_null "$IF_DRIVER")" "$(json_str_or_null "$IF_MODULE")" \
      "$(json_str_or_null "$IF_KIND")" \
      "$(json_bool "$([[ -n $IF_MODULE ]] && uses_netmap "$IF_MODULE" && echo 1 || echo 0)")" \
      "$(json_str_or_null "$(read_line "$path/operstate")")")"
  done
  ifaces+="]"

  # modules: netmap, its holders, the ones asked for, the ones load.sh swapped, interface drivers
  local -a ordered=(netmap "${netmap_holders[@]}" "${EXTRA_MODULES[@]}")
  if [[ -f $STATE_DIR/netmap/touched.modules ]]; then
    local -a touched=()
    mapfile -t touched <"$STATE_DIR/netmap/touched.modules"
    ordered+=("${touched[@]}")
  fi
  local -a iface_modules=("${MODULE_LIST[@]}")
  MODULE_LIST=()
  MODULE_SEEN=()
  for m in "${ordered[@]}" "${iface_modules[@]}"; do
    [[ -n $m ]] && add_module "$m"
  done
  local modules="[" mfirst=1
  for m in "${MODULE_LIST[@]}"; do
    ((mfirst)) || modules+=","
    mfirst=0
    modules+="$(module_json "$m")"
  done
  modules+="]"

  # VMs
  collect_vms
  local vms="[" vfirst=1
  for name in "${VM_NAMES[@]}"; do
    ((vfirst)) || vms+=","
    vfirst=0
    vms+="$(vm_json "$name")"
  done
  vms+="]"

  first=1
  printf '{"schema":"netmap-testbed/host-status/v1","hostname":%s,"kernelRelease":%s,' "$(json_str "$host")" "$(json_str "$RELEASE")"
  printf '"paths":{"stateDir":%s,"optDir":%s,"cacheDir":%s},' "$(json_str "$STATE_DIR")" "$(json_str "$OPT_DIR")" "$(json_str "$CACHE_DIR")"
  printf '"netmap":{"loaded":%s,"refcnt":%s,"holders":%s,"params":%s,"devNetmap":%s},' "$(json_bool "$netmap_loaded")" \
    "$(json_uint_or_null "$(read_line "$SYS_MODULE/netmap/refcnt")")" "$(json_array "${netmap_holders[@]}")" "$params" \
    "$(json_bool "$([[ -e /dev/netmap ]] && echo 1 || echo 0)")"
  printf '"modules":%s,"interfaces":%s,"vale":%s,"vms":%s,' "$modules" "$ifaces" "$(vale_json)" "$vms"
  printf '"netmapBuilds":%s,"qemuPrefixes":%s,' "$(netmap_builds_json)" "$(qemu_prefixes_json)"
  printf '"recorded":{"loadArgs":%s,"installedModules":%s,"touchedModules":%s,"persistent":%s}}\n' \
    "$(json_nul_file "$STATE_DIR/netmap/load.args")" "$(json_lines_file "$STATE_DIR/netmap/install.$RELEASE.modules")" \
    "$(json_lines_file "$STATE_DIR/netmap/touched.modules")" \
    "$(json_bool "$([[ -f $SYSTEMD_DIR/netmap-testbed-modules.service ]] && echo 1 || echo 0)")"
}

EXTRA_MODULES=()
EXTRA_PREFIXES=()
VALE_CTL_ARG=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --module)
      [[ $# -ge 2 ]] || usage_error "--module needs a value"
      [[ $2 =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{0,54}$ ]] || usage_error "invalid --module '$2'"
      EXTRA_MODULES+=("$2")
      shift 2
      ;;
    --qemu-prefix)
      [[ $# -ge 2 ]] || usage_error "--qemu-prefix needs a value"
      [[ $2 =~ ^/[A-Za-z0-9._+,@%=/:-]*$ && $2 != *'/..'* ]] || usage_error "invalid --qemu-prefix '$2'"
      EXTRA_PREFIXES+=("${2%/}")
      shift 2
      ;;
    --vale-ctl)
      [[ $# -ge 2 ]] || usage_error "--vale-ctl needs a value"
      [[ $2 =~ ^/[A-Za-z0-9._+,@%=/:-]*$ ]] || usage_error "invalid --vale-ctl '$2' (an absolute path)"
      VALE_CTL_ARG="$2"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done

main </dev/null

# shellcheck shell=bash
# Shared helpers for the host scripts under kernel-builds/. Sourced, never executed.
# Conventions (docs/host-scripts.md): progress on stderr prefixed by the script name, ONE JSON
# object on stdout, every name validated here before it reaches a command, no eval.

NMTB_STATE_DIR="${NMTB_STATE_DIR:-/var/lib/netmap-testbed}"
NMTB_OPT_DIR="${NMTB_OPT_DIR:-/opt/netmap-testbed}"
NMTB_CACHE_DIR="${NMTB_CACHE_DIR:-/var/cache/netmap-testbed}"
NMTB_SCRIPT="${NMTB_SCRIPT:-$(basename "${BASH_SOURCE[1]:-$0}")}"

nmtb_log() {
  printf '%s: %s\n' "$NMTB_SCRIPT" "$*" >&2
}

nmtb_die() {
  printf '%s: error: %s\n' "$NMTB_SCRIPT" "$*" >&2
  exit 1
}

# Bad arguments: message, then the caller's usage, exit 2.
nmtb_usage_error() {
  printf '%s: %s\n' "$NMTB_SCRIPT" "$*" >&2
  if declare -F usage >/dev/null; then usage >&2; fi
  exit 2
}

# Takes the value of a `--flag value` pair; fails when it is missing.
nmtb_flag_value() {
  local flag="$1"
  shift
  [[ $# -ge 1 ]] || nmtb_usage_error "$flag needs a value"
  printf '%s' "$1"
}

# ---------------------------------------------------------------- JSON output (no jq needed)

nmtb_json_escape() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  # Other control characters have no place in our output: drop them rather than escape.
  printf '%s' "$s" | LC_ALL=C tr -d '\001-\010\013\014\016-\037'
}

# A JSON string literal.
nmtb_json_str() {
  printf '"%s"' "$(nmtb_json_escape "$1")"
}

# A JSON array of strings from the arguments.
nmtb_json_array() {
  local first=1 item
  printf '['
  for item in "$@"; do
    ((first)) || printf ','
    first=0
    nmtb_json_str "$item"
  done
  printf ']'
}

# 1/0/true/false → true/false.
nmtb_json_bool() {
  case "$1" in
    1 | true) printf 'true' ;;
    *) printf 'false' ;;
  esac
}

# The tail of a log as a JSON string (for error reports).
nmtb_json_tail() {
  local file="$1" lines="${2:-40}"
  if [[ -f $file ]]; then nmtb_json_str "$(tail -n "$lines" "$file")"; else printf 'null'; fi
}

# ---------------------------------------------------------------- validation

nmtb_require_match() {
  local what="$1" value="$2" re="$3" hint="$4"
  [[ $value =~ $re ]] || nmtb_usage_error "invalid $what '$value': $hint"
}

# A generic identifier (config keys, hosts, unit-safe names).
nmtb_require_name() {
  nmtb_require_match "${2:-name}" "$1" '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' \
    'use letters, digits, ".", "_" and "-" (at most 128, not starting with a symbol)'
}

# A Linux interface name (IFNAMSIZ 16 incl. NUL; no "/", no whitespace).
nmtb_require_iface() {
  nmtb_require_match "${2:-interface name}" "$1" '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$' \
    'at most 15 characters among letters, digits, "_", ".", ":" and "-"'
}

# A kernel module name as modprobe takes it.
nmtb_require_module() {
  nmtb_require_match "${2:-module name}" "$1" '^[A-Za-z0-9_][A-Za-z0-9_-]{0,54}$' \
    'letters, digits, "_" and "-" only'
}

# A driver as netmap's configure names it: a module name, optionally with ".c" (virtio_net.c).
nmtb_require_driver() {
  nmtb_require_match "${2:-driver}" "$1" '^[A-Za-z0-9_][A-Za-z0-9_-]{0,54}(\.c)?$' \
    'a driver name as configure --show-drivers prints it, e.g. ixgbe or virtio_net.c'
}

# A driver version for --select-version (e.g. 6.1.6).
nmtb_require_version() {
  nmtb_require_match "${2:-version}" "$1" '^[0-9A-Za-z][0-9A-Za-z._+-]{0,31}$' \
    'digits, letters, ".", "_", "+" and "-" only'
}

nmtb_require_release() {
  nmtb_require_match "${2:-kernel release}" "$1" '^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$' \
    'a kernel release as uname -r prints it'
}

nmtb_require_hex() {
  nmtb_require_match "${2:-hash}" "$1" '^[0-9a-f]{7,128}$' 'lower-case hex digits'
}

nmtb_require_bool01() {
  nmtb_require_match "${2:-flag}" "$1" '^[01]$' 'use 1 or 0'
}

nmtb_require_uint() {
  nmtb_require_match "${2:-number}" "$1" '^[0-9]{1,9}$' 'a non-negative integer'
}

# The rules validate shares with the scripts (git URLs and refs, host paths): one table.
# shellcheck source=SCRIPTDIR/rules.sh
. "$(dirname "${BASH_SOURCE[0]}")/rules.sh"

# An absolute path without newlines, "..", or shell/glob surprises (validate's rule for paths).
nmtb_require_path() {
  nmtb_require_host_path "$@"
}

# A module parameter name=value (values: numbers, words, lists; no spaces or quotes).
nmtb_require_param() {
  nmtb_require_match "${2:-module parameter}" "$1" '^[A-Za-z_][A-Za-z0-9_]{0,63}=[A-Za-z0-9_.,:+-]{0,128}$' \
    'name=value with a simple value (letters, digits, . , : + - _)'
}

# ---------------------------------------------------------------- helpers

nmtb_sha256() {
  printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

nmtb_sha256_file() {
  sha256sum "$1" | cut -d' ' -f1
}

# The module name as the kernel shows it in /sys/module (dashes become underscores).
nmtb_module_sysname() {
  printf '%s' "${1//-/_}"
}

# The module a configure driver name builds: virtio_net.c → virtio_net.
nmtb_driver_module() {
  nmtb_module_sysname "${1%.c}"
}

nmtb_module_loaded() {
  [[ -e "/sys/module/$(nmtb_module_sysname "$1")/initstate" ]]
}

nmtb_module_builtin() {
  local m
  m="$(nmtb_module_sysname "$1")"
  [[ -d "/sys/module/$m" && ! -e "/sys/module/$m/initstate" ]]
}

# True when module $2 uses symbols of module $1 (e.g. a netmap-patched driver of netmap).
nmtb_module_holds() {
  [[ -e "/sys/module/$(nmtb_module_sysname "$1")/holders/$(nmtb_module_sysname "$2")" ]]
}

# The loaded modules, from sysfs as every other module check here (built-in ones have no
# initstate): a kernel built without module support has no /proc/modules at all.
nmtb_loaded_modules() {
  local f m
  # No command per module: under an emulated CPU each fork costs tens of milliseconds.
  for f in /sys/module/*/initstate; do
    [[ -e $f ]] || continue
    m="${f%/initstate}"
    printf '%s\n' "${m##*/}"
  done | sort
}

# The kernel module driving an interface, or nothing. Physical NICs: the driver's module link
# in sysfs. Virtual devices (veth, dummy) have no device link: their rtnl link kind resolves
# through the module alias rtnl-link-<kind>.
nmtb_iface_module() {
  local ifname="$1" link kind alias
  [[ -e "/sys/class/net/$ifname" ]] || return 0
  if [[ -e "/sys/class/net/$ifname/device/driver" ]]; then
    if link="$(readlink -f "/sys/class/net/$ifname/device/driver/module" 2>/dev/null)" && [[ -n $link && -d $link ]]; then
      basename "$link"
      return 0
    fi
    # Built-in drivers have no module link: report the driver name.
    basename "$(readlink -f "/sys/class/net/$ifname/device/driver")"
    return 0
  fi
  kind="$(ip -d -j link show dev "$ifname" 2>/dev/null | sed -n 's/.*"info_kind":"\([a-z0-9_]*\)".*/\1/p' | head -n1)"
  if [[ $kind =~ ^[a-z0-9_]+$ ]]; then
    alias="$(modprobe --resolve-alias "rtnl-link-$kind" 2>/dev/null | head -n1)"
    if [[ -n $alias ]]; then
      nmtb_module_sysname "$alias"
      return 0
    fi
    nmtb_module_sysname "$kind"
    return 0
  fi
  if command -v ethtool >/dev/null 2>&1; then
    ethtool -i "$ifname" 2>/dev/null | sed -n 's/^driver: //p' | head -n1
  fi
}

# Serialises the scripts on one host: two deploys must not swap drivers at the same time.
nmtb_lock() {
  mkdir -p "$NMTB_STATE_DIR/netmap"
  exec 9>"$NMTB_STATE_DIR/netmap/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w "${NMTB_LOCK_WAIT_SECONDS:-600}" 9 || nmtb_die "another netmap-testbed script holds $NMTB_STATE_DIR/netmap/.lock"
  fi
}

# Writes argv to a file, NUL-separated: read back with nmtb_read_args, never evaluated.
nmtb_write_args() {
  local file="$1"
  shift
  local tmp="$file.tmp.$$"
  if [[ $# -gt 0 ]]; then printf '%s\0' "$@" >"$tmp"; else : >"$tmp"; fi
  mv -f "$tmp" "$file"
}

# Reads a NUL-separated argv file into the array named by $2.
nmtb_read_args() {
  local file="$1"
  local -n _nmtb_out="$2"
  _nmtb_out=()
  [[ -f $file ]] || return 1
  mapfile -d '' -t _nmtb_out <"$file"
}

# Waits (bounded) until a command succeeds; $1 = seconds.
nmtb_wait_until() {
  local seconds="$1" deadline
  shift
  deadline=$((SECONDS + seconds))
  while ! "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

nmtb_iface_exists() {
  [[ -e "/sys/class/net/$1" ]]
}

# The stock (distribution) copy of a module for a release: the path modinfo gives when it is not
# ours, else a search of the release's tree outside our directory.
NMTB_MODULE_SUBDIR="extra/netmap-testbed"
nmtb_stock_module_path() {
  local module="$1" release="$2" path alt
  path="$(modinfo -k "$release" -n "$module" 2>/dev/null || true)"
  if [[ -n $path && $path != "(builtin)" && $path != */$NMTB_MODULE_SUBDIR/* && -f $path ]]; then
    printf '%s' "$path"
    return 0
  fi
  alt="${module//_/-}"
  find "/lib/modules/$release" -path "/lib/modules/$release/$NMTB_MODULE_SUBDIR" -prune -o \
    -type f \( -name "$module.ko" -o -name "$module.ko.*" -o -name "$alt.ko" -o -name "$alt.ko.*" \) -print 2>/dev/null | sort | head -n1
}

# Loads the stock copy of a module although a depmod override prefers ours: dependencies through
# modprobe (they are stock), the module with insmod plus the options modprobe.d gives it.
nmtb_load_stock_module() {
  local module="$1" release="$2" path dep deps sysname
  local -a opts=()
  sysname="$(nmtb_module_sysname "$module")"
  nmtb_module_loaded "$sysname" && return 0
  path="$(nmtb_stock_module_path "$module" "$release")"
  [[ -n $path ]] || {
    nmtb_log "no stock copy of $module found under /lib/modules/$release"
    return 1
  }
  deps="$(modinfo -F depends "$path" 2>/dev/null || true)"
  for dep in ${deps//,/ }; do
    [[ $dep =~ ^[A-Za-z0-9_-]+$ ]] || continue
    nmtb_module_loaded "$dep" || modprobe "$dep" || return 1
  done
  mapfile -t opts < <(modprobe -c 2>/dev/null | awk -v m="$sysname" '$1 == "options" { n = $2; gsub("-", "_", n); if (n == m) for (i = 3; i <= NF; i++) print $i }')
  nmtb_log "loading stock $module from $path${opts[*]:+ (options: ${opts[*]})}"
  insmod "$path" "${opts[@]}"
}

# The interfaces an interface stands on, itself included: the ports of a bridge, the slaves of a
# bond, the parent of a VLAN or macvlan, recursively (sysfs lower_* and brif/ links).
nmtb_lower_ifaces() {
  local ifname="$1" depth="${2:-0}" link name
  ((depth < 8)) || return 0
  [[ -n $ifname && -e "/sys/class/net/$ifname" ]] || return 0
  printf '%s\n' "$ifname"
  for link in "/sys/class/net/$ifname"/lower_* "/sys/class/net/$ifname"/brif/*; do
    [[ -e $link ]] || continue
    name="${link##*/}"
    nmtb_lower_ifaces "${name#lower_}" $((depth + 1))
  done
}

# The interface this SSH session arrives on: the route back to the client's address
# (SSH_CONNECTION, which sshd sets; absent under sudo's env_reset, then only the declared
# management interface counts).
nmtb_session_iface() {
  local client="${SSH_CONNECTION%% *}"
  [[ -n ${SSH_CONNECTION:-} && -n $client ]] || return 0
  ip -o route get "$client" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n1
}

# "IFACE<TAB>WHERE" for an interface and every one beneath it: WHERE is LABEL for the interface
# itself and "X under LABEL" for the ones it stands on.
nmtb_labelled_lower_ifaces() {
  local top="$1" label="$2" i
  nmtb_lower_ifaces "$top" | while IFS= read -r i; do
    if [[ $i == "$top" ]]; then
      printf '%s\t%s\n' "$i" "$label"
    else
      printf '%s\t%s under %s\n' "$i" "$i" "$label"
    fi
  done
}

# "DRIVER<TAB>WHERE" for every interface the management path stands on: the declared management
# interface and the one carrying this SSH session, through bridges, bonds, VLANs and macvlans
# down to the NICs (WHERE says which, for messages). Unloading any of these drivers could cut
# the connection.
nmtb_management_path() {
  local mgmt="$1" session i m
  session="$(nmtb_session_iface)"
  {
    nmtb_labelled_lower_ifaces "$mgmt" "the management interface $mgmt"
    [[ -z $session ]] || nmtb_labelled_lower_ifaces "$session" "$session, which carries this SSH session"
  } | awk -F '\t' '!seen[$1]++' | while IFS=$'\t' read -r i where; do
    m="$(nmtb_iface_module "$i")"
    [[ -z $m ]] || printf '%s\t%s\n' "$m" "$where"
  done
}

# Unloads every patched module an install recorded (state/install.*.modules), drivers first, then
# netmap. Never the driver of the management interface recorded by load.sh unless load was
# allowed to swap it, and never a stock copy (one that does not hold netmap). Appends module
# names to the caller's `unloaded` array and reasons to its `failures` array.
nmtb_unload_patched() {
  local state="$1" mgmt="" allow_mgmt=0 f m
  if [[ -f "$state/load.management" ]]; then
    IFS=$'\t' read -r mgmt allow_mgmt <"$state/load.management" || true
  fi
  # Drivers the management path stands on now (the declared interface and this session's).
  local -A path_drivers=()
  local d where
  while IFS=$'\t' read -r d where; do [[ -z $d || -n ${path_drivers[$d]:-} ]] || path_drivers[$d]="$where"; done \
    < <(nmtb_management_path "$mgmt")
  local -A ours=()
  for f in "$state"/install.*.modules; do
    [[ -f $f ]] || continue
    while IFS= read -r m; do [[ -z $m ]] || ours[$m]=1; done <"$f"
  done
  for m in $(printf '%s\n' "${!ours[@]}" | sort); do
    [[ $m != netmap ]] || continue
    nmtb_module_loaded "$m" || continue
    nmtb_module_holds netmap "$m" || continue
    if [[ -n ${path_drivers[$m]:-} && $allow_mgmt != 1 ]]; then
      failures+=("patched $m drives ${path_drivers[$m]}: not unloaded (do it from the console)")
      continue
    fi
    nmtb_log "unloading patched $m"
    if rmmod "$m"; then unloaded+=("$m"); else failures+=("cannot unload patched $m"); fi
  done
  if nmtb_module_loaded netmap; then
    nmtb_log "unloading netmap"
    if rmmod netmap; then
      unloaded+=(netmap)
    else
      failures+=("cannot unload netmap (refcnt $(cat /sys/module/netmap/refcnt 2>/dev/null)): VALE ports, pipes or VMs still hold it")
    fi
  fi
}

nmtb_require_root() {
  [[ ${NMTB_ALLOW_NONROOT:-0} == 1 || $(id -u) -eq 0 ]] || nmtb_die "must run as root"
}

# For the caches of uploads from the controller (host/source-cache.sh, image/store-image.sh):
# `store` takes FROM, the SSH user's upload, and deletes it whatever happens; no other action
# takes one.
nmtb_cache_upload_arg() {
  local action="$1" from="$2"
  if [[ $action == store ]]; then
    [[ -n $from ]] || nmtb_usage_error "store needs --from FILE"
    nmtb_require_path "$from" --from
    # shellcheck disable=SC2064 # the upload's name is fixed now
    trap "rm -f -- $(printf '%q' "$from")" EXIT
  else
    [[ -z $from ]] || nmtb_usage_error "--from goes with store"
  fi
}

# Answers status, check and remove of an upload cache's ENTRY with the script's own `cached`
# (is ENTRY complete, with the expected bytes?) and `emit FIELD` (its JSON line), and exits;
# returns for store. check exits 3 when the entry is missing: the controller then uploads it.
nmtb_cache_answer() {
  local action="$1" entry="$2" removed=0
  case "$action" in
    status)
      emit "\"present\":$(cached && echo true || echo false)"
      exit 0
      ;;
    check)
      if cached; then
        emit '"present":true'
        exit 0
      fi
      emit '"present":false'
      exit 3
      ;;
    remove)
      if [[ -e $entry || -L $entry ]]; then
        rm -rf -- "$entry"
        removed=1
      fi
      emit "\"removed\":$(nmtb_json_bool "$removed")"
      exit 0
      ;;
  esac
}

#!/usr/bin/env bash
# VM lifecycle on a host: a systemd unit per VM running the (ptnet) QEMU with the planner's argv,
# a qcow2 overlay on the cached guest image, vCPU pinning, a NUMA check, and a bounded wait until
# the guest answers SSH. `stop` powers it down over QMP, kills it after a timeout and removes the
# unit and the overlay. Hosts without systemd as PID 1 can use --no-systemd (setsid + pidfile).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/vm.sh
. "$here/../lib/vm.sh"

usage() {
  cat <<'EOF'
usage: vm.sh start  --name N --image PATH --seed PATH [--state-dir D] [--pin CPU,CPU…]
                    [--ssh-port P] [--restart on-failure|no] [--wait-ssh SECONDS]
                    [--nic-interface IF]… [--no-systemd] [--qemu-img PATH]
                    [--kernel FILE --initrd FILE] -- QEMU_ARGV…
       vm.sh unit   (same flags as start) -- QEMU_ARGV…   print the unit, change nothing
       vm.sh stop   --name N [--state-dir D] [--timeout SECONDS]
       vm.sh status --name N [--state-dir D]
       vm.sh purge  --name N [--state-dir D]     remove the VM's directory (seed, console log)
                                                 once it is stopped; refuses a running VM
       vm.sh numa-check --pin CPU,CPU… --nic-interface IF…

  QEMU_ARGV   the planner's complete argv, starting with the absolute path of
              qemu-system-x86_64; run as given (nothing added). It must use this VM's files:
                -pidfile D/qemu.pid  -qmp unix:D/qmp.sock,server,…  -drive file=D/overlay.qcow2,…
                -drive file=SEED,…   with --ssh-port P: -netdev user,…,hostfwd=tcp:127.0.0.1:P-:22
              and no -daemonize. The console log is the argv's -serial file:PATH (D/console.log).
  --state-dir D      this VM's directory (default $NMTB_STATE_DIR/vms/N)
  --pin CPUS         host CPUs for the vCPU threads, vCPU i → CPUS[i mod n] (taskset after start)
  --restart MODE     systemd Restart= (default no)
  --wait-ssh S       wait up to S seconds for an SSH banner on 127.0.0.1:P (default 300; 0 = no wait)
  --nic-interface IF a host NIC passed to the VM: the pins are checked against its NUMA node
  --kernel F --initrd F  a recipe image's kernel and initrd: linked as D/vmlinuz and
                     D/initrd.img at each start, which the argv's -kernel/-initrd must name
  --no-systemd       run QEMU under setsid with a pidfile instead of a systemd unit
  --timeout S        stop: seconds to wait after the QMP powerdown before killing (default 60)

Environment: NMTB_STATE_DIR, NMTB_SYSTEMD_DIR (default /etc/systemd/system),
  NMTB_SYS_CLASS_NET, NMTB_SYS_CPU (sysfs roots, test hooks).
Needs: python3 (QMP), taskset (util-linux), qemu-img.
stdout: one JSON object; start: {"name","unit","pid","sshPort","argv","pinned","warnings",…}.
EOF
}

NMTB_SYSTEMD_DIR="${NMTB_SYSTEMD_DIR:-/etc/systemd/system}"
NMTB_SYS_CPU="${NMTB_SYS_CPU:-/sys/devices/system/cpu}"

[[ $# -ge 1 ]] || nmtb_usage_error "missing action"
action="$1"
shift
case "$action" in
  start | unit | stop | status | purge | numa-check) ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) nmtb_usage_error "unknown action '$action'" ;;
esac

name="" image="" seed="" state_dir="" pins="" ssh_port="" restart=no wait_ssh=300 timeout=60
use_systemd=1 qemu_img="" kernel="" initrd=""
nics=()
qemu_argv=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) name="$(nmtb_flag_value "$@")" && shift 2 ;;
    --image) image="$(nmtb_flag_value "$@")" && shift 2 ;;
    --seed) seed="$(nmtb_flag_value "$@")" && shift 2 ;;
    --kernel) kernel="$(nmtb_flag_value "$@")" && shift 2 ;;
    --initrd) initrd="$(nmtb_flag_value "$@")" && shift 2 ;;
    --state-dir) state_dir="$(nmtb_flag_value "$@")" && shift 2 ;;
    --pin) pins="$(nmtb_flag_value "$@")" && shift 2 ;;
    --ssh-port) ssh_port="$(nmtb_flag_value "$@")" && shift 2 ;;
    --restart) restart="$(nmtb_flag_value "$@")" && shift 2 ;;
    --wait-ssh) wait_ssh="$(nmtb_flag_value "$@")" && shift 2 ;;
    --timeout) timeout="$(nmtb_flag_value "$@")" && shift 2 ;;
    --nic-interface) nics+=("$(nmtb_flag_value "$@")") && shift 2 ;;
    --qemu-img) qemu_img="$(nmtb_flag_value "$@")" && shift 2 ;;
    --no-systemd)
      use_systemd=0
      shift
      ;;
    --)
      shift
      qemu_argv=("$@")
      break
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) nmtb_usage_error "unknown argument '$1'" ;;
  esac
done

[[ -z $pins ]] || nmtb_require_match "--pin" "$pins" '^[0-9]{1,4}(,[0-9]{1,4}){0,255}$' 'a comma-separated list of CPU numbers'
for nic in "${nics[@]}"; do nmtb_require_iface "$nic" "--nic-interface"; done

# ---------------------------------------------------------------- NUMA check
# Prints one warning per line when a pinned CPU is not on the NUMA node of a passed NIC.
numa_warnings() {
  local nic node cpu cpu_node link
  [[ -n $pins && ${#nics[@]} -gt 0 ]] || return 0
  for nic in "${nics[@]}"; do
    if [[ ! -r $NMTB_SYS_CLASS_NET/$nic/device/numa_node ]]; then
      printf 'NIC %s has no NUMA information (%s/%s/device/numa_node missing)\n' "$nic" "$NMTB_SYS_CLASS_NET" "$nic"
      continue
    fi
    node="$(cat "$NMTB_SYS_CLASS_NET/$nic/device/numa_node")"
    [[ $node =~ ^[0-9]+$ ]] || continue # -1: single node or unknown
    for cpu in ${pins//,/ }; do
      cpu_node=""
      for link in "$NMTB_SYS_CPU/cpu$cpu"/node[0-9]*; do
        [[ -e $link ]] && cpu_node="${link##*/node}"
      done
      if [[ -z $cpu_node ]]; then
        [[ -d $NMTB_SYS_CPU/cpu$cpu ]] || printf 'CPU %s does not exist on this host\n' "$cpu"
        continue
      fi
      if [[ $cpu_node != "$node" ]]; then
        printf 'CPU %s is on NUMA node %s but NIC %s is on node %s: pin the VM to CPUs of node %s\n' \
          "$cpu" "$cpu_node" "$nic" "$node" "$node"
      fi
    done
  done
}

warnings=()
collect_numa_warnings() {
  local w
  while IFS= read -r w; do
    [[ -n $w ]] || continue
    warnings+=("$w")
    nmtb_log "warning: $w"
  done < <(numa_warnings)
}

if [[ $action == numa-check ]]; then
  collect_numa_warnings
  printf '{"pins":%s,"nics":%s,"warnings":%s}\n' "$(nmtb_json_str "$pins")" "$(nmtb_json_array "${nics[@]}")" \
    "$(nmtb_json_array "${warnings[@]}")"
  exit 0
fi

[[ -n $name ]] || nmtb_usage_error "--name is required"
nmtb_require_name "$name" "--name"
state_dir="${state_dir:-$NMTB_STATE_DIR/vms/$name}"
nmtb_require_path "$state_dir" "--state-dir"
# Trailing slashes would make D/qemu.pid differ from the argv's path.
while [[ $state_dir == ?*/ ]]; do state_dir="${state_dir%/}"; done
unit="netmap-testbed-vm-$name.service"
unit_path="$NMTB_SYSTEMD_DIR/$unit"
overlay="$state_dir/overlay.qcow2"
qmp_sock="$state_dir/qmp.sock"
pidfile="$state_dir/qemu.pid"
argv_file="$state_dir/argv"
meta_file="$state_dir/meta"

# ---------------------------------------------------------------- state helpers
qemu_pid() {
  local pid=""
  if [[ -f $meta_file ]] && grep -qx 'systemd=1' "$meta_file" && nmtb_have_systemd; then
    pid="$(systemctl show -p MainPID --value "$unit" 2>/dev/null || true)"
    [[ $pid != 0 ]] || pid=""
  fi
  if [[ -z $pid && -f $pidfile ]]; then pid="$(tr -dc '0-9' <"$pidfile")"; fi
  [[ -n $pid && -d /proc/$pid ]] || return 1
  # Make sure the pid is still our QEMU: its command line names our QMP socket.
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "unix:$qmp_sock," || return 1
  printf '%s' "$pid"
}

meta_get() { sed -n "s/^$1=//p" "$meta_file" 2>/dev/null | head -n1; }

json_cmdline() {
  local pid="$1"
  local -a args=()
  mapfile -d '' -t args <"/proc/$pid/cmdline" 2>/dev/null || true
  nmtb_json_array "${args[@]}"
}

# ---------------------------------------------------------------- status / stop
if [[ $action == status ]]; then
  pid=""
  running=0
  if pid="$(qemu_pid)"; then running=1; else pid=""; fi
  active=null
  if nmtb_have_systemd && [[ -f $unit_path ]]; then
    active="$(nmtb_json_str "$(systemctl is-active "$unit" 2>/dev/null || true)")"
  fi
  # "present" (the convention every status follows, read by refresh): the VM is running.
  printf '{"present":%s,"name":%s,"unit":%s,"running":%s,"pid":%s,"activeState":%s,"sshPort":%s,"argv":%s,"overlay":%s}\n' \
    "$(nmtb_json_bool "$running")" "$(nmtb_json_str "$name")" "$([[ -f $unit_path ]] && nmtb_json_str "$unit" || echo null)" \
    "$(nmtb_json_bool "$running")" "${pid:-null}" "$active" "$(meta_get ssh_port | grep . || echo null)" \
    "$( ((running)) && json_cmdline "$pid" || echo null)" "$([[ -f $overlay ]] && nmtb_json_str "$overlay" || echo null)"
  exit 0
fi

stop_vm() {
  local pid graceful=0 killed=0 deadline
  if pid="$(qemu_pid)"; then
    if [[ -S $qmp_sock ]]; then
      nmtb_log "asking $name to power down (QMP system_powerdown)"
      nmtb_qmp "$qmp_sock" 5 '{"execute":"system_powerdown"}' >/dev/null 2>&1 || nmtb_log "QMP powerdown failed"
    fi
    deadline=$((SECONDS + timeout))
    while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.5; done
    if [[ -d /proc/$pid ]]; then
      nmtb_log "$name did not power down within ${timeout}s: killing it"
      kill -TERM "$pid" 2>/dev/null || true
      sleep 2
      if [[ -d /proc/$pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
      killed=1
    else
      graceful=1
    fi
  fi
  if nmtb_have_systemd && [[ -f $unit_path ]]; then
    systemctl stop "$unit" >/dev/null 2>&1 || true
    rm -f -- "$unit_path"
    systemctl daemon-reload || true
    systemctl reset-failed "$unit" >/dev/null 2>&1 || true
  else
    rm -f -- "$unit_path"
  fi
  STOP_GRACEFUL=$graceful STOP_KILLED=$killed
}

if [[ $action == stop ]]; then
  nmtb_require_uint "$timeout" "--timeout"
  existed=0
  [[ -f $unit_path || -f $overlay || -f $pidfile ]] && existed=1
  stop_vm
  rm -f -- "$overlay" "$qmp_sock" "$pidfile" "$argv_file" "$meta_file" "$state_dir/unit.tmp"
  printf '{"name":%s,"unit":%s,"changed":%s,"graceful":%s,"killed":%s}\n' "$(nmtb_json_str "$name")" \
    "$(nmtb_json_str "$unit")" "$(nmtb_json_bool "$existed")" "$(nmtb_json_bool "$STOP_GRACEFUL")" \
    "$(nmtb_json_bool "$STOP_KILLED")"
  exit 0
fi

if [[ $action == purge ]]; then
  # What stop leaves for a later start or a post-mortem (the seed, the console log) goes with the
  # VM itself, once nothing runs from the directory.
  if qemu_pid >/dev/null || [[ -f $unit_path ]]; then
    nmtb_die "VM $name is still running or has its unit $unit: stop it first (vm.sh stop --name $name)"
  fi
  existed=0
  if [[ -e $state_dir ]]; then
    existed=1
    rm -rf -- "$state_dir"
  fi
  printf '{"name":%s,"stateDir":%s,"changed":%s}\n' "$(nmtb_json_str "$name")" "$(nmtb_json_str "$state_dir")" \
    "$(nmtb_json_bool "$existed")"
  exit 0
fi

# ---------------------------------------------------------------- start / unit
[[ -n $image ]] || nmtb_usage_error "--image is required"
[[ -n $seed ]] || nmtb_usage_error "--seed is required"
nmtb_require_path "$image" "--image"
nmtb_require_path "$seed" "--seed"
[[ -z $ssh_port ]] || nmtb_require_match "--ssh-port" "$ssh_port" '^[1-9][0-9]{0,4}$' 'a TCP port'
[[ -z $ssh_port ]] || ((ssh_port <= 65535)) || nmtb_usage_error "invalid --ssh-port '$ssh_port'"
nmtb_require_match "--restart" "$restart" '^(no|on-failure|always)$' 'no, on-failure or always'
nmtb_require_uint "$wait_ssh" "--wait-ssh"
[[ -z $qemu_img ]] || nmtb_require_path "$qemu_img" "--qemu-img"
[[ ${#qemu_argv[@]} -ge 1 ]] || nmtb_usage_error "give the QEMU argv after --"
qemu_bin="${qemu_argv[0]}"
nmtb_require_path "$qemu_bin" "QEMU binary (argv[0])"
for a in "${qemu_argv[@]}"; do
  [[ $a != *[$'\001'-$'\037'$'\177']* ]] || nmtb_usage_error "a QEMU argument contains a control character"
done

# The argv is the planner's, complete and exact (what `netmap-testbed plan` shows): this script
# adds nothing, it only checks that the argv uses this VM's files, which stop/status rely on
# (qemu_pid looks for "unix:$qmp_sock," in the command line; stop removes the overlay and pidfile).
# QEMU takes "-opt" and "--opt" alike; for options given twice the last one counts.
argv_is_flag() { [[ $1 == "$2" || $1 == "-$2" ]]; }
# True when the argv has FLAG followed by a value that starts with PREFIX (literal).
argv_has() {
  local flag="$1" prefix="$2" i
  for ((i = 1; i + 1 < ${#qemu_argv[@]}; i++)); do
    argv_is_flag "${qemu_argv[i]}" "$flag" && [[ ${qemu_argv[i + 1]} == "$prefix"* ]] && return 0
  done
  return 1
}
# Prints the value of the last FLAG in the argv; fails when there is none.
argv_last() {
  local flag="$1" i value="" found=1
  for ((i = 1; i + 1 < ${#qemu_argv[@]}; i++)); do
    if argv_is_flag "${qemu_argv[i]}" "$flag"; then
      value="${qemu_argv[i + 1]}"
      found=0
    fi
  done
  printf '%s' "$value"
  return "$found"
}
for a in "${qemu_argv[@]:1}"; do
  if argv_is_flag "$a" -daemonize; then
    nmtb_usage_error "the QEMU argv must not contain -daemonize: QEMU runs in the foreground (of its unit)"
  fi
done
[[ $state_dir != *,* && $seed != *,* ]] ||
  nmtb_usage_error "--state-dir and --seed must not contain ',' (QEMU's option separator)"
[[ "$(argv_last -pidfile)" == "$pidfile" ]] ||
  nmtb_usage_error "the QEMU argv must contain -pidfile $pidfile (as its last -pidfile)"
argv_has -qmp "unix:$qmp_sock,server" ||
  nmtb_usage_error "the QEMU argv must contain -qmp unix:$qmp_sock,server,nowait"
argv_has -drive "file=$overlay," ||
  nmtb_usage_error "the QEMU argv must contain -drive file=$overlay,… (the overlay this script creates)"
argv_has -drive "file=$seed," || nmtb_usage_error "the QEMU argv must contain -drive file=$seed,… (--seed)"
# A recipe image boots its own kernel: the argv names this VM's links, made below at each start.
boot_kernel="$state_dir/vmlinuz" boot_initrd="$state_dir/initrd.img"
if [[ -n $kernel || -n $initrd ]]; then
  [[ -n $kernel && -n $initrd ]] || nmtb_usage_error "--kernel and --initrd go together"
  nmtb_require_path "$kernel" "--kernel"
  nmtb_require_path "$initrd" "--initrd"
  [[ "$(argv_last -kernel)" == "$boot_kernel" && "$(argv_last -initrd)" == "$boot_initrd" ]] ||
    nmtb_usage_error "with --kernel/--initrd the QEMU argv must contain -kernel $boot_kernel -initrd $boot_initrd"
fi
if [[ -n $ssh_port ]]; then
  ssh_fwd_ok=0
  for ((i = 1; i + 1 < ${#qemu_argv[@]}; i++)); do
    if argv_is_flag "${qemu_argv[i]}" -netdev && [[ ${qemu_argv[i + 1]} == user,* &&
      ${qemu_argv[i + 1]}, == *",hostfwd=tcp:127.0.0.1:$ssh_port-:22,"* ]]; then
      ssh_fwd_ok=1
    fi
  done
  ((ssh_fwd_ok)) ||
    nmtb_usage_error "--ssh-port $ssh_port needs -netdev user,…,hostfwd=tcp:127.0.0.1:$ssh_port-:22 in the QEMU argv"
fi
# The console log is wherever the argv sends the serial port (the planner: D/console.log).
console=""
if serial="$(argv_last -serial)" && [[ $serial == file:/?* ]]; then console="${serial#file:}"; fi
full_argv=("${qemu_argv[@]}")

unit_content() {
  cat <<EOF
# Written by netmap-testbed (kernel-builds/vm/vm.sh): VM $name.
[Unit]
Description=netmap-testbed VM $name
After=network.target

[Service]
Type=simple
ExecStart=$(nmtb_systemd_exec_line "${full_argv[@]}")
Restart=$restart
RestartSec=2
# vm.sh stop powers the guest down over QMP first; this only bounds a plain systemctl stop.
TimeoutStopSec=$((timeout + 30))
EOF
}

if [[ $action == unit ]]; then
  printf '{"unit":%s,"path":%s,"content":%s,"argv":%s}\n' "$(nmtb_json_str "$unit")" "$(nmtb_json_str "$unit_path")" \
    "$(nmtb_json_str "$(unit_content)")" "$(nmtb_json_array "${full_argv[@]}")"
  exit 0
fi

# start
[[ -x $qemu_bin ]] || nmtb_die "QEMU binary $qemu_bin is not executable"
[[ -f $image ]] || nmtb_die "image $image not found"
[[ -f $seed ]] || nmtb_die "seed $seed not found"
if ((use_systemd)) && ! nmtb_have_systemd; then
  nmtb_die "systemd is not running as PID 1 on this host: VMs run as systemd units; use --no-systemd to run QEMU under setsid instead"
fi
if [[ -n $pins ]]; then command -v taskset >/dev/null 2>&1 || nmtb_die "taskset not found (apt-get install util-linux)"; fi
command -v python3 >/dev/null 2>&1 || nmtb_die "python3 is needed for QMP (apt-get install python3)"
mkdir -p "$state_dir"
collect_numa_warnings

changed=0
new_unit="$(unit_content)"
if pid="$(qemu_pid)"; then
  if [[ -f $argv_file ]] && cmp -s "$argv_file" <(printf '%s\0' "${full_argv[@]}"); then
    nmtb_log "$name is already running (pid $pid)"
  else
    nmtb_die "$name is running with a different configuration: stop it first (vm.sh stop --name $name)"
  fi
else
  # Overlay on the cached image (created once; a stopped VM keeps no overlay).
  if [[ ! -f $overlay ]]; then
    if [[ -z $qemu_img ]]; then
      if [[ -x "$(dirname "$qemu_bin")/qemu-img" ]]; then qemu_img="$(dirname "$qemu_bin")/qemu-img"
      else qemu_img="$(command -v qemu-img || true)"; fi
    fi
    [[ -n $qemu_img && -x $qemu_img ]] || nmtb_die "qemu-img not found (pass --qemu-img or install qemu-utils)"
    fmt="$("$qemu_img" info --output=json "$image" | sed -n 's/^ *"format": "\([a-z0-9]*\)".*/\1/p' | head -n1)"
    [[ -n $fmt ]] || nmtb_die "cannot tell the format of $image"
    nmtb_log "creating overlay $overlay on $image ($fmt)"
    "$qemu_img" create -q -f qcow2 -F "$fmt" -b "$image" "$overlay" >/dev/null
  fi
  if [[ -n $kernel ]]; then
    ln -sfn -- "$kernel" "$boot_kernel"
    ln -sfn -- "$initrd" "$boot_initrd"
  fi
  rm -f -- "$qmp_sock" "$pidfile"
  # A fresh log per start (QEMU truncates it too, once it gets that far).
  [[ -z $console ]] || : >"$console"
  nmtb_write_args "$argv_file" "${full_argv[@]}"
  printf 'systemd=%s\nssh_port=%s\n' "$use_systemd" "$ssh_port" >"$meta_file"
  if ((use_systemd)); then
    mkdir -p "$NMTB_SYSTEMD_DIR"
    printf '%s\n' "$new_unit" >"$unit_path.tmp"
    mv -f "$unit_path.tmp" "$unit_path"
    systemctl daemon-reload
    systemctl reset-failed "$unit" >/dev/null 2>&1 || true
    nmtb_log "starting $unit"
    systemctl start "$unit"
  else
    nmtb_log "starting $name under setsid (no systemd)"
    setsid -f "${full_argv[@]}" </dev/null >>"$state_dir/qemu.stderr" 2>&1
  fi
  changed=1
fi

fail_start() {
  local reason="$1" console_tail=null
  nmtb_log "error: $reason"
  [[ -z $console ]] || console_tail="$(nmtb_json_tail "$console" 40)"
  printf '{"ok":false,"name":%s,"unit":%s,"error":%s,"consoleTail":%s,"qemuStderr":%s,"warnings":%s}\n' \
    "$(nmtb_json_str "$name")" "$(nmtb_json_str "$unit")" "$(nmtb_json_str "$reason")" "$console_tail" \
    "$(nmtb_json_tail "$state_dir/qemu.stderr" 20)" "$(nmtb_json_array "${warnings[@]}")"
  STOP_GRACEFUL=0 STOP_KILLED=0
  timeout=5
  stop_vm >/dev/null 2>&1 || true
  # Like stop: a VM that is not running keeps no overlay (a retry must not boot a half-initialised
  # disk), no unit, socket or pidfile; the console log stays for the post-mortem.
  rm -f -- "$overlay" "$qmp_sock" "$pidfile" "$argv_file" "$meta_file"
  exit 1
}

# Wait for QEMU to be up (pid + QMP socket).
deadline=$((SECONDS + 30))
until pid="$(qemu_pid)" && [[ -S $qmp_sock ]]; do
  if ((SECONDS >= deadline)); then
    if ((use_systemd)); then
      journal="$(journalctl -u "$unit" -n 20 --no-pager 2>/dev/null || true)"
      printf '%s\n' "$journal" >>"$state_dir/qemu.stderr"
    fi
    fail_start "QEMU did not start within 30 s"
  fi
  sleep 0.2
done

# Pin the vCPU threads.
pinned=()
if [[ -n $pins ]]; then
  IFS=, read -r -a cpu_list <<<"$pins"
  mapfile -t vcpus < <(nmtb_qmp_vcpu_threads "$qmp_sock") || fail_start "QMP query-cpus-fast failed"
  ((${#vcpus[@]} > 0)) || fail_start "QMP query-cpus-fast returned no vCPUs"
  ((${#vcpus[@]} <= ${#cpu_list[@]})) ||
    { warnings+=("${#vcpus[@]} vCPUs but only ${#cpu_list[@]} CPUs in --pin: vCPUs share CPUs"); nmtb_log "warning: ${warnings[-1]}"; }
  for entry in "${vcpus[@]}"; do
    idx="${entry%% *}" tid="${entry#* }"
    [[ $idx =~ ^[0-9]+$ && $tid =~ ^[0-9]+$ ]] || fail_start "unexpected vCPU entry from QMP: $entry"
    cpu="${cpu_list[idx % ${#cpu_list[@]}]}"
    taskset -pc "$cpu" "$tid" >/dev/null || fail_start "taskset -pc $cpu $tid failed"
    pinned+=("$idx:$cpu")
  done
  nmtb_log "pinned vCPUs (vcpu:cpu) ${pinned[*]}"
fi

# Wait for the guest's SSH banner.
ssh_ready=false
# What a Linux guest prints when it cannot go on: a panic, or the initramfs without a root.
boot_failed='Kernel panic - not syncing[^\r]*|Dropping to a shell'

if [[ -n $ssh_port ]] && ((wait_ssh > 0)); then
  nmtb_log "waiting up to ${wait_ssh}s for SSH on 127.0.0.1:$ssh_port"
  deadline=$((SECONDS + wait_ssh))
  while :; do
    # Each probe waits long for the banner (it returns as soon as it comes): a guest emulated on a
    # busy or emulated host (a lab under TCG) needs seconds to fork sshd's child and answer, and a
    # short probe would give up on every connection of a guest that is up.
    probe=$((deadline - SECONDS))
    ((probe <= 30)) || probe=30
    ((probe >= 5)) || probe=5
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    banner="$(timeout "$probe" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && head -c 4 <&3' _ "$ssh_port" 2>/dev/null || true)"
    if [[ $banner == SSH- ]]; then
      ssh_ready=true
      break
    fi
    qemu_pid >/dev/null || fail_start "QEMU exited while waiting for SSH"
    # A guest that cannot boot will never answer: say so now rather than at the deadline.
    if [[ -n $console ]] && grep -qE "$boot_failed" "$console" 2>/dev/null; then
      fail_start "the guest stopped booting: $(grep -m1 -oE "$boot_failed" "$console")"
    fi
    ((SECONDS < deadline)) || fail_start "guest did not answer SSH on 127.0.0.1:$ssh_port within ${wait_ssh}s"
    sleep 1
  done
fi

# A lab-image guest's seed setup (its user, netmap) runs before its sshd starts, so by the banner
# it is over; its failure is this VM's, told in the guest's words in the console tail.
if [[ $ssh_ready == true && -n $console ]] && grep -q 'nmtb-seed: setup failed' "$console" 2>/dev/null; then
  fail_start "the guest's seed setup failed ($(grep -m1 -o 'nmtb-seed: setup failed[^\r]*' "$console")); the console tail says why"
fi
pid="$(qemu_pid)" || fail_start "QEMU is not running"
printf '{"ok":true,"name":%s,"unit":%s,"systemd":%s,"pid":%s,"sshHost":"127.0.0.1","sshPort":%s,"sshReady":%s,' \
  "$(nmtb_json_str "$name")" "$( ((use_systemd)) && nmtb_json_str "$unit" || echo null)" "$(nmtb_json_bool "$use_systemd")" \
  "$pid" "${ssh_port:-null}" "$ssh_ready"
printf '"overlay":%s,"console":%s,"qmp":%s,"argv":%s,"pinned":%s,"warnings":%s,"changed":%s}\n' \
  "$(nmtb_json_str "$overlay")" "$([[ -n $console ]] && nmtb_json_str "$console" || echo null)" "$(nmtb_json_str "$qmp_sock")" \
  "$(nmtb_json_array "${full_argv[@]}")" "$(nmtb_json_array "${pinned[@]}")" "$(nmtb_json_array "${warnings[@]}")" \
  "$(nmtb_json_bool "$changed")"

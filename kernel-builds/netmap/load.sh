#!/usr/bin/env bash
# Swaps the test NICs from their stock drivers to the netmap-patched ones: unload the stock
# driver, load netmap with its parameters, load the patched driver, wait for each NIC to come
# back and verify it is driven by the patched module (which holds netmap). Never touches the
# management NIC's driver unless explicitly allowed. Any failure rolls back to the stock drivers.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: load.sh --management-interface IF [--nic IFNAME:DRIVER]... [--param NAME=VALUE]...
               [--allow-management-driver] [--wait-seconds N]

  --management-interface IF   the interface carrying the SSH/management connection
  --nic IFNAME:DRIVER         a test NIC and the patched driver module for it (ixgbe,
                              virtio_net or virtio_net.c, ...); repeatable
  --param NAME=VALUE          netmap module parameter (checked against modinfo); repeatable
  --allow-management-driver   allow swapping the management NIC's driver (the connection drops)
  --wait-seconds N            bound on waiting for each NIC to reappear (default 60)

environment: NMTB_STATE_DIR (load.args saved there for persist.sh)
stdout: {"changed","kernelRelease","managementInterface","managementDriver",
         "netmap":{"loaded","params":{NAME:VALUE}},"nics":[{"name","driver","patched"}]}
USAGE
}

mgmt=""
allow_mgmt=0
wait_seconds=60
nic_specs=()
params=()
orig_args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --management-interface) mgmt="$(nmtb_flag_value "$@")"; shift 2 ;;
    --nic) nic_specs+=("$(nmtb_flag_value "$@")"); shift 2 ;;
    --param) params+=("$(nmtb_flag_value "$@")"); shift 2 ;;
    --allow-management-driver) allow_mgmt=1; shift ;;
    --wait-seconds) wait_seconds="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
[[ -n $mgmt ]] || nmtb_usage_error "--management-interface is required"
nmtb_require_iface "$mgmt" --management-interface
nmtb_require_uint "$wait_seconds" --wait-seconds
nic_names=()
nic_drivers=()
for spec in "${nic_specs[@]}"; do
  [[ $spec == *:* ]] || nmtb_usage_error "--nic '$spec': use IFNAME:DRIVER"
  nmtb_require_iface "${spec%%:*}" "--nic interface"
  nmtb_require_driver "${spec#*:}" "--nic driver"
  nic_names+=("${spec%%:*}")
  nic_drivers+=("$(nmtb_driver_module "${spec#*:}")")
done
declare -A param_value=()
param_names=()
for p in "${params[@]}"; do
  nmtb_require_param "$p" --param
  [[ -z ${param_value[${p%%=*}]:-} ]] || nmtb_usage_error "--param ${p%%=*} given twice"
  param_value[${p%%=*}]="${p#*=}"
  param_names+=("${p%%=*}")
done
nmtb_require_root
nmtb_lock

release="$(uname -r)"
state="$NMTB_STATE_DIR/netmap"
mod_dir="/lib/modules/$release/$NMTB_MODULE_SUBDIR"
mkdir -p "$state"
mapfile -t drivers < <(printf '%s\n' "${nic_drivers[@]}" | sed '/^$/d' | sort -u)

# ---------------------------------------------------------------- preflight: nothing changes yet
nmtb_iface_exists "$mgmt" || nmtb_die "management interface $mgmt does not exist"
mgmt_driver="$(nmtb_iface_module "$mgmt")"
# Not only the declared interface's own driver: a host managed over a bridge, bond or VLAN is
# cut off by the driver of the NIC underneath, and the SSH session may arrive elsewhere.
declare -A path_drivers=()
while IFS=$'\t' read -r d where; do
  [[ -z $d || -n ${path_drivers[$d]:-} ]] || path_drivers[$d]="$where"
done < <(nmtb_management_path "$mgmt")
for d in "${drivers[@]}"; do
  if [[ -n ${path_drivers[$d]:-} ]] && ((!allow_mgmt)); then
    nmtb_die "refusing to swap driver $d: it drives ${path_drivers[$d]} (unloading it would cut this connection). Put the test NICs on another driver, manage the host through another NIC, or pass --allow-management-driver (topology: allowManagementDriver) if the host has console access."
  fi
  if nmtb_module_builtin "$d"; then
    nmtb_die "driver $d is built into the kernel: it cannot be replaced by a module (rebuild the kernel with it as a module)"
  fi
done
for m in netmap "${drivers[@]}"; do
  resolved="$(modinfo -k "$release" -n "$m" 2>/dev/null || true)"
  [[ $resolved == "$mod_dir/$m.ko" ]] || nmtb_die "modprobe would load $m from '${resolved:-nowhere}', not $mod_dir/$m.ko: run install.sh for $release first"
done
mapfile -t known_params < <(modinfo -k "$release" -F parm netmap | sed 's/:.*//')
for n in "${param_names[@]}"; do
  [[ " ${known_params[*]} " == *" $n "* ]] || nmtb_die "netmap has no parameter '$n' (known: ${known_params[*]})"
done
baseline_nic_module() {
  [[ -f "$state/baseline.nics" ]] || return 0
  awk -F '\t' -v n="$1" '$1 == n { print $2; exit }' "$state/baseline.nics"
}
for i in "${!nic_names[@]}"; do
  n="${nic_names[i]}"
  [[ $n != "$mgmt" ]] || nmtb_die "--nic $n is the management interface"
  if ! nmtb_iface_exists "$n" && [[ -z "$(baseline_nic_module "$n")" ]]; then
    nmtb_die "test NIC $n does not exist (and the baseline does not know it)"
  fi
done

param_ok() {
  local n="$1" v="$2" f="/sys/module/netmap/parameters/$1" cur
  [[ -r $f ]] || return 0 # not readable in sysfs: nothing to compare
  cur="$(cat "$f")"
  [[ $cur == "$v" ]] && return 0
  [[ $v == 1 && $cur == Y ]] || [[ $v == 0 && $cur == N ]]
}
params_ok() {
  local n
  for n in "${param_names[@]}"; do param_ok "$n" "${param_value[$n]}" || return 1; done
}
nic_ok() {
  local n="$1" d="$2"
  nmtb_iface_exists "$n" && [[ "$(nmtb_iface_module "$n")" == "$d" ]] && nmtb_module_holds netmap "$d"
}
all_nics_ok() {
  local i
  for i in "${!nic_names[@]}"; do nic_ok "${nic_names[i]}" "${nic_drivers[i]}" || return 1; done
}

params_json() {
  local n first=1
  printf '{'
  for n in "${param_names[@]}"; do
    ((first)) || printf ','
    first=0
    printf '%s:%s' "$(nmtb_json_str "$n")" "$(nmtb_json_str "$(cat "/sys/module/netmap/parameters/$n" 2>/dev/null || printf '%s' "${param_value[$n]}")")"
  done
  printf '}'
}
emit() {
  local changed="$1" i first=1
  printf '{"changed":%s,"kernelRelease":%s,"managementInterface":%s,"managementDriver":%s,"netmap":{"loaded":%s,"params":%s},"nics":[' \
    "$(nmtb_json_bool "$changed")" "$(nmtb_json_str "$release")" "$(nmtb_json_str "$mgmt")" "$(nmtb_json_str "$mgmt_driver")" \
    "$(if nmtb_module_loaded netmap; then echo true; else echo false; fi)" "$(params_json)"
  for i in "${!nic_names[@]}"; do
    ((first)) || printf ','
    first=0
    printf '{"name":%s,"driver":%s,"patched":%s}' "$(nmtb_json_str "${nic_names[i]}")" "$(nmtb_json_str "$(nmtb_iface_module "${nic_names[i]}")")" \
      "$(if nic_ok "${nic_names[i]}" "${nic_drivers[i]}"; then echo true; else echo false; fi)"
  done
  printf ']}\n'
}
remember() {
  nmtb_write_args "$state/load.args" "${orig_args[@]}"
  printf '%s\t%s\n' "$mgmt" "$allow_mgmt" >"$state/load.management"
}

if nmtb_module_loaded netmap && params_ok && all_nics_ok; then
  nmtb_log "netmap loaded with these parameters and every test NIC is on its patched driver: nothing to do"
  remember
  emit 0
  exit 0
fi

# The modules this script swaps: teardown.sh compares exactly these (plus the NICs) with the baseline.
{
  [[ ! -f "$state/touched.modules" ]] || cat "$state/touched.modules"
  printf '%s\n' netmap "${drivers[@]}"
} | sort -u >"$state/touched.modules.tmp"
mv -f "$state/touched.modules.tmp" "$state/touched.modules"

netmap_was_loaded=0
nmtb_module_loaded netmap && netmap_was_loaded=1
declare -A was_loaded=()
for d in "${drivers[@]}"; do
  if nmtb_module_loaded "$d"; then was_loaded[$d]=1; fi
done

failure=""
fail() {
  failure="$1"
  return 1
}

swap() {
  local d n i holder
  for d in "${drivers[@]}"; do
    if nmtb_module_loaded "$d"; then
      nmtb_log "unloading $d"
      rmmod "$d" || fail "cannot unload $d (in use? lsmod shows its users)" || return 1
    fi
  done
  if nmtb_module_loaded netmap && ! params_ok; then
    for holder in /sys/module/netmap/holders/*; do
      [[ -e $holder ]] || continue
      fail "netmap must be reloaded with new parameters but is used by $(basename "$holder"), which is not a test NIC driver" || return 1
    done
    nmtb_log "unloading netmap (parameters change)"
    rmmod netmap || fail "cannot unload netmap: it is in use (VALE ports, pipes or VMs still open; refcnt $(cat /sys/module/netmap/refcnt 2>/dev/null))" || return 1
  fi
  if ! nmtb_module_loaded netmap; then
    local -a pv=()
    for n in "${param_names[@]}"; do pv+=("$n=${param_value[$n]}"); done
    nmtb_log "modprobe netmap ${pv[*]}"
    modprobe netmap "${pv[@]}" || fail "modprobe netmap ${pv[*]} failed (see dmesg)" || return 1
  fi
  params_ok || fail "netmap is loaded but its parameters differ from ${params[*]}" || return 1
  for d in "${drivers[@]}"; do
    nmtb_log "modprobe $d (patched)"
    modprobe "$d" || fail "modprobe $d failed (see dmesg)" || return 1
    nmtb_module_holds netmap "$d" || fail "$d is loaded but does not use netmap: not the patched copy" || return 1
  done
  for i in "${!nic_names[@]}"; do
    n="${nic_names[i]}"
    d="${nic_drivers[i]}"
    nmtb_log "waiting for $n on $d"
    nmtb_wait_until "$wait_seconds" nmtb_iface_exists "$n" || fail "$n did not reappear within ${wait_seconds}s after loading $d" || return 1
    nic_ok "$n" "$d" || fail "$n is driven by '$(nmtb_iface_module "$n")', not the patched $d" || return 1
  done
}

rollback() {
  local d n
  nmtb_log "rolling back to the stock drivers"
  for d in "${drivers[@]}"; do
    if nmtb_module_loaded "$d" && nmtb_module_holds netmap "$d"; then rmmod "$d" || nmtb_log "cannot unload $d"; fi
  done
  if ((!netmap_was_loaded)) && nmtb_module_loaded netmap; then rmmod netmap || nmtb_log "cannot unload netmap"; fi
  for d in "${drivers[@]}"; do
    if [[ -n ${was_loaded[$d]:-} ]] || printf '%s\n' "$(cut -f2 "$state/baseline.nics" 2>/dev/null)" | grep -qxF -- "$d"; then
      nmtb_load_stock_module "$d" "$release" || nmtb_log "cannot reload stock $d"
    fi
  done
  for n in "${nic_names[@]}"; do
    nmtb_wait_until "$wait_seconds" nmtb_iface_exists "$n" || nmtb_log "$n did not come back"
  done
}

if ! swap; then
  nmtb_log "load failed: $failure"
  rollback
  nmtb_die "$failure (rolled back to the stock drivers)"
fi
nmtb_log "netmap loaded; test NICs on patched drivers: ${nic_specs[*]:-none}"
remember
emit 1

#!/usr/bin/env bash
# Reads back the live netmap state of a host (for `pulumi refresh` / drift): is netmap loaded,
# with which parameters, are the recorded test NICs on their patched drivers, is it persistent.
# Changes nothing.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: status.sh
stdout: {"present","kernelRelease","netmapLoaded","installed","persistent","params":{NAME:VALUE},
         "nics":[{"name","driver","patched"}]}
  present = netmap loaded with the parameters load.sh set, and every NIC recorded by load.sh on
  its patched driver.
USAGE
}
case "${1:-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) nmtb_usage_error "status.sh takes no arguments" ;;
esac

release="$(uname -r)"
state="$NMTB_STATE_DIR/netmap"
loaded=0
nmtb_module_loaded netmap && loaded=1
installed=0
[[ "$(modinfo -k "$release" -n netmap 2>/dev/null || true)" == "/lib/modules/$release/$NMTB_MODULE_SUBDIR/netmap.ko" ]] && installed=1
persistent=0
[[ -f /etc/systemd/system/netmap-testbed-modules.service ]] && persistent=1

params="{"
first=1
if ((loaded)); then
  for f in /sys/module/netmap/parameters/*; do
    [[ -r $f ]] || continue
    ((first)) || params+=","
    first=0
    params+="$(nmtb_json_str "$(basename "$f")"):$(nmtb_json_str "$(cat "$f" 2>/dev/null || true)")"
  done
fi
params+="}"

# Whether netmap's live value of a parameter is the one asked for: sysfs prints integers in
# decimal and booleans as Y/N.
param_is() {
  local want="$1" have="$2"
  if [[ $want =~ ^-?[0-9]+$ && $have =~ ^-?[0-9]+$ ]]; then
    ((10#${want#-} * ${want%%[0-9]*}1 == 10#${have#-} * ${have%%[0-9]*}1))
  elif [[ $have == [YN] ]]; then
    case "$want" in 1 | y | Y) [[ $have == Y ]] ;; 0 | n | N) [[ $have == N ]] ;; *) return 1 ;; esac
  else
    [[ $want == "$have" ]]
  fi
}

present=$loaded
nics="["
first=1
declare -a args=()
if nmtb_read_args "$state/load.args" args; then
  for ((i = 0; i < ${#args[@]}; i++)); do
    if [[ ${args[i]} == --param ]] && ((loaded)); then
      # netmap loaded with other values (e.g. at boot, by a patched driver's modprobe before
      # persist.sh wrote the options) is not what was deployed.
      name="${args[i + 1]%%=*}"
      if [[ $name =~ ^[A-Za-z0-9_]+$ ]] &&
        ! param_is "${args[i + 1]#*=}" "$(cat "/sys/module/netmap/parameters/$name" 2>/dev/null || true)"; then
        present=0
      fi
      continue
    fi
    [[ ${args[i]} == --nic ]] || continue
    spec="${args[i + 1]}"
    ifname="${spec%%:*}"
    driver="$(nmtb_driver_module "${spec#*:}")"
    [[ $ifname =~ ^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$ && $driver =~ ^[A-Za-z0-9_]+$ ]] || continue
    now="$(nmtb_iface_module "$ifname")"
    patched=0
    if [[ $now == "$driver" ]] && nmtb_module_holds netmap "$driver"; then patched=1; fi
    ((patched)) || present=0
    ((first)) || nics+=","
    first=0
    nics+="{\"name\":$(nmtb_json_str "$ifname"),\"driver\":$(nmtb_json_str "$now"),\"patched\":$(nmtb_json_bool "$patched")}"
  done
fi
nics+="]"
printf '{"present":%s,"kernelRelease":%s,"netmapLoaded":%s,"installed":%s,"persistent":%s,"params":%s,"nics":%s}\n' \
  "$(nmtb_json_bool "$present")" "$(nmtb_json_str "$release")" "$(nmtb_json_bool "$loaded")" "$(nmtb_json_bool "$installed")" \
  "$(nmtb_json_bool "$persistent")" "$params" "$nics"

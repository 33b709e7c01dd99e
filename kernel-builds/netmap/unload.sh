#!/usr/bin/env bash
# Undoes load.sh and nothing else: unloads the patched NIC drivers and netmap, then puts the test
# NICs back on the stock drivers they had before. The installed modules, the depmod overrides
# and the tools stay (teardown.sh removes those), so load.sh can run again at once, e.g. with new
# module parameters. Never unloads the driver of the management interface unless load.sh was
# allowed to swap it. Exit 1 (with the reasons) when something stays loaded.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: unload.sh [--wait-seconds N]

  --wait-seconds N    bound on waiting for each test NIC to come back (default 60)

environment: NMTB_STATE_DIR
stdout: {"unloaded":[...],"reloaded":[...],"failures":[...]}
USAGE
}

wait_seconds=60
while [[ $# -gt 0 ]]; do
  case "$1" in
    --wait-seconds) wait_seconds="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
nmtb_require_uint "$wait_seconds" --wait-seconds
nmtb_require_root

nmtb_lock
release="$(uname -r)"
state="$NMTB_STATE_DIR/netmap"
unloaded=()
failures=()
nmtb_unload_patched "$state"

# Stock drivers back, for the modules load.sh swapped that were loaded at the baseline. With the
# patched copies still installed (and preferred by depmod), only the stock file will do.
reloaded=()
if [[ -f "$state/touched.modules" && -f "$state/baseline.modules" ]]; then
  while IFS= read -r m; do
    [[ $m =~ ^[A-Za-z0-9_-]+$ && $m != netmap ]] || continue
    grep -qxF -- "$m" "$state/baseline.modules" || continue
    nmtb_module_loaded "$m" && continue
    if nmtb_load_stock_module "$m" "$release"; then reloaded+=("$m"); else failures+=("cannot reload stock $m"); fi
  done <"$state/touched.modules"
fi
if [[ -f "$state/baseline.nics" ]]; then
  while IFS=$'\t' read -r ifname _ _; do
    [[ -n $ifname ]] || continue
    nmtb_wait_until "$wait_seconds" nmtb_iface_exists "$ifname" || failures+=("interface $ifname did not come back")
  done <"$state/baseline.nics"
fi

printf '{"unloaded":%s,"reloaded":%s,"failures":%s}\n' \
  "$(nmtb_json_array "${unloaded[@]}")" "$(nmtb_json_array "${reloaded[@]}")" "$(nmtb_json_array "${failures[@]}")"
if ((${#failures[@]} > 0)); then
  printf '%s\n' "${failures[@]}" | sed "s/^/$NMTB_SCRIPT: | /" >&2
  exit 1
fi

#!/usr/bin/env bash
# Run at boot by netmap-testbed-modules.service (persist.sh): when the running kernel has no
# netmap build, rebuild and install it from the cached source (DKMS-like); then load.sh with the
# recorded arguments. Messages go to the journal: `journalctl -u netmap-testbed-modules`.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: boot.sh   (no arguments; reads NMTB_STATE_DIR/netmap/{build,load}.args)
stdout: load.sh's JSON
USAGE
}
case "${1:-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) nmtb_usage_error "boot.sh takes no arguments" ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$NMTB_STATE_DIR/netmap"
release="$(uname -r)"
declare -a load_args=() build_args=()
nmtb_read_args "$state/load.args" load_args || nmtb_die "no $state/load.args: nothing to load"

resolved="$(modinfo -k "$release" -n netmap 2>/dev/null || true)"
if [[ $resolved != "/lib/modules/$release/$NMTB_MODULE_SUBDIR/netmap.ko" ]]; then
  nmtb_log "kernel $release has no netmap-testbed build installed"
  nmtb_read_args "$state/build.args" build_args ||
    nmtb_die "no recorded build arguments ($state/build.args): cannot rebuild netmap for $release; run the deploy (pulumi up) again"
  source_dir=""
  for ((i = 0; i < ${#build_args[@]}; i++)); do
    [[ ${build_args[i]} != --source-dir ]] || source_dir="${build_args[i + 1]}"
  done
  [[ -n $source_dir && -x "$source_dir/configure" ]] ||
    nmtb_die "the netmap source cache ($source_dir) is gone: cannot rebuild netmap for $release; run the deploy (pulumi up) again"
  [[ -e "/lib/modules/$release/build/.config" ]] ||
    nmtb_die "no headers for $release (/lib/modules/$release/build): install linux-headers-$release, then restart netmap-testbed-modules"
  nmtb_log "rebuilding netmap for $release from $source_dir"
  build_json="$("$here/build.sh" "${build_args[@]}" --kernel-release "$release")"
  build_dir="$(printf '%s' "$build_json" | sed -n 's/.*"buildDir":"\([^"]*\)".*/\1/p')"
  [[ -n $build_dir ]] || nmtb_die "build.sh printed no buildDir"
  "$here/install.sh" --build-dir "$build_dir" --kernel-release "$release" >/dev/null
fi
exec "$here/load.sh" "${load_args[@]}"

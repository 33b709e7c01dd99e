#!/usr/bin/env bash
# Packs one finished build (a build.sh build directory with its stamp) as a gzip'd tar on stdout,
# for import.sh on an identical host (same kernel release, same build key). The one host script
# whose stdout is not JSON: it is the archive, binary.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# "RELEASE HASH": the kernel the modules build against, beyond its release string (import.sh
# and export.sh compute it alike).
kernel_identity() {
  local kdir="/lib/modules/$1/build" f
  printf '%s %s\n' "$1" "$(for f in .config Module.symvers; do
    if [[ -f "$kdir/$f" ]]; then sha256sum <"$kdir/$f"; else echo "no $f"; fi
  done | sha256sum | cut -d' ' -f1)"
}

usage() {
  cat <<'USAGE'
usage: export.sh (--build-key KEY | --build-dir DIR) > build.tgz

  --build-key KEY   build.sh's buildKey: exports $NMTB_CACHE_DIR/build/KEY
  --build-dir DIR   the same, by build.sh's buildDir (must be $NMTB_CACHE_DIR/build/<key>)

The archive holds one directory named by the key (the build directory as build.sh left it, stamp
included) and KEY.kernel (the release and a hash of its headers' .config and Module.symvers,
checked by import.sh), not the sources: the receiving host fetches the same sources itself (fetch.sh) at the
same path before import.sh. Refuses a build without its stamp (incomplete) and a terminal stdout.
environment: NMTB_CACHE_DIR
stdout: the gzip'd tar (binary)
USAGE
}

key=""
build_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-key) key="$(nmtb_flag_value "$@")"; shift 2 ;;
    --build-dir) build_dir="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
build_root="$NMTB_CACHE_DIR/build"
if [[ -n $build_dir ]]; then
  nmtb_require_path "$build_dir" --build-dir
  [[ $(dirname "$build_dir") == "$build_root" ]] || nmtb_usage_error "--build-dir must be a directory in $build_root"
  [[ -z $key || $key == "$(basename "$build_dir")" ]] || nmtb_usage_error "--build-key and --build-dir disagree"
  key="$(basename "$build_dir")"
fi
[[ -n $key ]] || nmtb_usage_error "--build-key or --build-dir is required"
nmtb_require_match --build-key "$key" '^[0-9a-f]{64}$' "build.sh's buildKey (64 hex digits)"
build_dir="$build_root/$key"
[[ ! -t 1 ]] || nmtb_die "stdout is a terminal: redirect it to a file"

# build.sh's lock for this key: no build, adoption or removal of it while it is read.
exec 8>"$build_root/$key.lock"
flock -w "${NMTB_LOCK_WAIT_SECONDS:-3600}" 8 || nmtb_die "another build of $key is running"
[[ -d $build_dir && ! -L $build_dir ]] || nmtb_die "no build $key in $build_root"
[[ -f "$build_dir/.nmtb-built" ]] || nmtb_die "build $key has no stamp: incomplete, not exported"

# The kernel the modules were built against, beyond its release string: import.sh refuses the
# build on a host whose headers differ (a custom kernel reusing a release name).
netmap_ko="$(find "$build_dir" -path "$build_dir/netmap-tmpdir" -prune -o -type f -name netmap.ko -print -quit)"
[[ -n $netmap_ko ]] || nmtb_die "build $key has no netmap.ko"
release="$(modinfo -F vermagic "$netmap_ko" | awk '{print $1}')"
nmtb_require_release "$release" "netmap.ko's vermagic release"
meta="$(mktemp -d)"
trap 'rm -rf "$meta"' EXIT
kernel_identity "$release" >"$meta/$key.kernel"

nmtb_log "exporting $build_dir ($(du -sh "$build_dir" | cut -f1) unpacked) for $release"
tar --numeric-owner -cf - -C "$build_root" "$key" -C "$meta" "$key.kernel" | gzip -1

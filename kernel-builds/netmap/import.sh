#!/usr/bin/env bash
# Installs another host's build of the same key (export.sh's archive, on stdin) as this host's
# build, instead of compiling: unpacks it next to the build directory, then build.sh --adopt
# checks its stamp against this host's fingerprint for the same arguments and renames it into
# place (atomic; a failed import leaves no partial build). An already current build is kept.
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
usage: import.sh BUILD.SH-ARGUMENTS... < build.tgz

  BUILD.SH-ARGUMENTS  exactly what build.sh would get on this host (--source-dir, --commit,
                      --config-key, --kernel-release, --driver, ...): they give the key and the
                      fingerprint the imported stamp must match. The sources must already be at
                      --source-dir (fetch.sh), as the build directory refers to them.
stdin: export.sh's gzip'd tar
environment: NMTB_ARCHIVE_SHA256 (required) the archive's sha256 as the exporter's side computed
             it: the bytes are checked against it before anything is unpacked
             NMTB_CACHE_DIR
stdout: build.sh's JSON with "built":false, "imported":true (false when the build was current)
USAGE
}
case "${1:-}" in
  "") nmtb_usage_error "build.sh's arguments are required" ;;
  -h | --help) usage; exit 0 ;;
esac
for a in "$@"; do
  case "$a" in
    --adopt | --check-only) nmtb_usage_error "import.sh sets $a itself" ;;
  esac
done
[[ ! -t 0 ]] || nmtb_usage_error "the archive goes on stdin"
# Another host's modules and root-run tools: never unpacked on the strength of a name or a key.
expected="${NMTB_ARCHIVE_SHA256:-}"
[[ -n "$expected" ]] || nmtb_usage_error "NMTB_ARCHIVE_SHA256 must give the archive's sha256"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || nmtb_die "NMTB_ARCHIVE_SHA256 must be 64 lower-case hex digits"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_root="$NMTB_CACHE_DIR/build"
mkdir -p "$build_root"
# Same filesystem as the build directories, so build.sh's rename is atomic.
work="$(mktemp -d "$build_root/.import.XXXXXX")"
trap 'rm -rf "$work"' EXIT
staging="$work/tree"

cat >"$work/archive.tgz"
actual="$(sha256sum <"$work/archive.tgz" | cut -d' ' -f1)"
[[ "$actual" == "$expected" ]] ||
  nmtb_die "the archive on stdin has sha256 $actual, not the expected $expected: refused, nothing unpacked"
mkdir "$staging"
if ! gzip -dc <"$work/archive.tgz" | tar -x -C "$staging" --no-same-owner -f -; then
  nmtb_die "cannot unpack the archive on stdin (empty, truncated or not export.sh's)"
fi
rm -f "$work/archive.tgz"
mapfile -t top < <(find "$staging" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
[[ ${#top[@]} -eq 1 && ${top[0]} =~ ^[0-9a-f]{64}$ && ! -L "$staging/${top[0]}" ]] ||
  nmtb_die "the archive must hold one build directory named by its key, it holds: ${top[*]:-nothing}"
key="${top[0]}"
[[ -f "$staging/$key.kernel" ]] || nmtb_die "the archive has no $key.kernel (not export.sh's)"
read -r release _ <"$staging/$key.kernel"
nmtb_require_release "$release" "the archive's kernel release"
[[ -e "/lib/modules/$release/build/.config" ]] || nmtb_die "no kernel headers for $release here (/lib/modules/$release/build)"
if [[ "$(kernel_identity "$release")" != "$(cat "$staging/$key.kernel")" ]]; then
  nmtb_die "the build is for other kernel headers than this host's $release (.config or Module.symvers differ)"
fi
# build.sh renames it into place (or drops it when its own build is current); it must sit
# directly in the build root.
adopt="$build_root/.import-$key.$$"
mv "$staging/$key" "$adopt"
trap 'rm -rf "$work" "$adopt"' EXIT
nmtb_log "unpacked build $key for $release ($(du -sh "$adopt" | cut -f1)); handing it to build.sh"
bash "$here/build.sh" "$@" --adopt "$adopt"

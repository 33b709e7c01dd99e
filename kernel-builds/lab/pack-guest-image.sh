#!/usr/bin/env bash
# Packs a lab image (build-image.sh's output directory) as one archive for VMs on any host: the
# disk as a compressed qcow2 (a 4 GiB raw disk with ~1.3 GiB used becomes a few hundred MB to
# upload), with the kernel, initrd and kernel release QEMU boots it by. The archive is cached
# beside the image, named by the image's recipe key, and described by its sha256, which the
# hosts check (image/store-image.sh) before they unpack anything.
# Needs qemu-img (qemu-utils), tar, sha256sum, flock.
set -euo pipefail
NMTB_LAB_PROG="pack-guest-image.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=kernel-builds/lab/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: pack-guest-image.sh --image-dir DIR
  --image-dir DIR   build-image.sh's "dir" (disk.img, vmlinuz, initrd.img, kernel-release,
                    recipe.json); the archive is written there as guest.tar (+ guest.tar.sha256)
stdout: one JSON object {archive, sha256, kernelRelease, recipeKey, cached, seconds}
USAGE
}

image_dir=""
while (($#)); do
  case "$1" in
    --image-dir) image_dir="${2:?}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done
[[ -n "$image_dir" ]] || usage_error "--image-dir is required"
for f in disk.img vmlinuz initrd.img kernel-release recipe.json; do
  [[ -f "$image_dir/$f" ]] || die "$image_dir is not a built lab image (no $f): run build-image.sh"
done
need_cmd qemu-img tar sha256sum flock
image_dir="$(cd "$image_dir" && pwd)"
key="$(basename "$image_dir")"
release="$(cat "$image_dir/kernel-release")"
archive="$image_dir/guest.tar"

emit() { # emit CACHED SECONDS
  printf '{"archive":%s,"sha256":%s,"kernelRelease":%s,"recipeKey":%s,"cached":%s,"seconds":%s}\n' \
    "$(json_str "$archive")" "$(json_str "$(cut -d' ' -f1 <"$archive.sha256")")" \
    "$(json_str "$release")" "$(json_str "$key")" "$1" "$2"
}
# The sha256 file is written last, after the archive is in place: it marks a complete pack.
complete() { [[ -f "$archive" && -s "$archive.sha256" ]]; }

if complete; then
  emit true 0
  exit 0
fi
exec 9>"$image_dir/.lock-guest"
flock 9
if complete; then
  emit true 0
  exit 0
fi
start="$(now_ms)"
tmp="$(mktemp -d "$image_dir/.guest.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log "compressing $image_dir/disk.img to qcow2 (about a minute)"
qemu-img convert -c -O qcow2 "$image_dir/disk.img" "$tmp/disk.qcow2"
cp "$image_dir/vmlinuz" "$image_dir/initrd.img" "$image_dir/kernel-release" "$tmp/"
tar -C "$tmp" --owner=0 --group=0 -cf "$tmp/guest.tar" disk.qcow2 vmlinuz initrd.img kernel-release
sha="$(sha256sum "$tmp/guest.tar" | cut -d' ' -f1)"
mv -f "$tmp/guest.tar" "$archive"
printf '%s  guest.tar\n' "$sha" >"$archive.sha256.tmp"
mv -f "$archive.sha256.tmp" "$archive.sha256"
seconds="$((($(now_ms) - start) / 1000))"
log "packed $archive ($(du -h "$archive" | cut -f1), sha256 $sha) in $seconds s"
emit false "$seconds"

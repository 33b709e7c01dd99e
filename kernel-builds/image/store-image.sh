#!/usr/bin/env bash
# The host's cache of recipe images uploaded from the controller (lab/pack-guest-image.sh's
# archive: disk.qcow2, vmlinuz, initrd.img, kernel-release): one directory per archive content,
# $NMTB_CACHE_DIR/images/recipe-<sha256>/, which VMs boot from (an overlay on disk.qcow2 and
# QEMU's -kernel/-initrd). The upload is the controller's (SFTP, as the SSH user, to a temporary
# file); `store` takes it over as root only after checking its bytes and unpacks it into a new
# directory that appears complete or not at all.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: store-image.sh status --sha256 HEX
       store-image.sh check  --sha256 HEX
       store-image.sh store  --sha256 HEX --from FILE
       store-image.sh remove --sha256 HEX

  --sha256 HEX  the archive's sha256 as the controller computed it
  --from FILE   the uploaded archive: checked, unpacked into the cache, then deleted (also on failure)
status reports "present"; check exits 0 when the image is in the cache, 3 when it is not (the
controller uploads nothing when it is).
environment: NMTB_CACHE_DIR
stdout: {"dir","disk","kernel","initrd","kernelRelease","sha256","present"|"stored"|"removed"}
USAGE
}

action="${1:-}"
case "$action" in
  status | check | store | remove) shift ;;
  -h | --help) usage; exit 0 ;;
  *) nmtb_usage_error "first argument: status, check, store or remove" ;;
esac
sha="" from=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sha256) sha="$(nmtb_flag_value "$@")"; shift 2 ;;
    --from) from="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
nmtb_require_match --sha256 "$sha" '^[0-9a-f]{64}$' "64 lower-case hex digits"
# Whatever happens below, the uploaded copy goes: it is the SSH user's, in a shared directory.
nmtb_cache_upload_arg "$action" "$from"

parent="$NMTB_CACHE_DIR/images"
dir="$parent/recipe-$sha"
files=(disk.qcow2 vmlinuz initrd.img kernel-release)
# The directory is only ever renamed into place complete, by root, with its archive's digest
# written last: its presence is the check (rehashing ~400 MB at every read would cost minutes
# on an emulated host).
cached() {
  local f
  [[ -d $dir && ! -L $dir && -f $dir/sha256 && "$(cat "$dir/sha256")" == "$sha" ]] || return 1
  for f in "${files[@]}"; do [[ -f $dir/$f && ! -L $dir/$f ]] || return 1; done
}
emit() {
  local release=""
  [[ ! -f $dir/kernel-release ]] || release="$(head -n1 "$dir/kernel-release")"
  printf '{"dir":%s,"disk":%s,"kernel":%s,"initrd":%s,"kernelRelease":%s,"sha256":%s,%s}\n' \
    "$(nmtb_json_str "$dir")" "$(nmtb_json_str "$dir/disk.qcow2")" "$(nmtb_json_str "$dir/vmlinuz")" \
    "$(nmtb_json_str "$dir/initrd.img")" "$(nmtb_json_str "$release")" "$(nmtb_json_str "$sha")" "$1"
}

nmtb_cache_answer "$action" "$dir"

nmtb_require_root
mkdir -p "$parent"
if cached; then
  nmtb_log "image $sha is already in $dir"
  emit '"stored":false'
  exit 0
fi
[[ -f $from && ! -L $from ]] || nmtb_die "the uploaded $from is not a regular file: nothing stored"
# Room for a copy of the archive and what it unpacks to, checked before writing so a full disk
# leaves nothing half-written.
need_kib="$((2 * $(stat -c %s "$from") / 1024 + 1024))"
free_kib="$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')"
((free_kib >= need_kib)) ||
  nmtb_die "$parent has $((free_kib / 1024)) MiB free, the image needs $((need_kib / 1024)) MiB: free space and retry"
tmp="$(mktemp -d "$parent/.recipe-$sha.XXXXXX")"
trap 'rm -f -- "$from"; rm -rf -- "$tmp"' EXIT
# The copy is checked and unpacked, not the upload: the upload stays writable by its owner (the
# SSH user) until it is gone, so its bytes could change between the check and the unpacking.
cp -- "$from" "$tmp/archive"
rm -f -- "$from"
actual="$(nmtb_sha256_file "$tmp/archive")"
[[ $actual == "$sha" ]] || nmtb_die "uploaded image archive has sha256 $actual, expected $sha: nothing stored"
tar -C "$tmp" --no-same-owner -xf "$tmp/archive" -- "${files[@]}" ||
  nmtb_die "image archive $sha does not hold ${files[*]}"
rm -f -- "$tmp/archive"
for f in "${files[@]}"; do
  [[ -f $tmp/$f && ! -L $tmp/$f ]] || nmtb_die "image archive $sha: $f is not a regular file"
done
nmtb_require_release "$(head -n1 "$tmp/kernel-release")"
chmod 0644 "${files[@]/#/$tmp/}"
printf '%s\n' "$sha" >"$tmp/sha256"
chmod 0755 "$tmp"
rm -rf -- "$dir"
mv -T -- "$tmp" "$dir"
nmtb_log "stored image $sha in $dir (kernel $(head -n1 "$dir/kernel-release"))"
emit '"stored":true'

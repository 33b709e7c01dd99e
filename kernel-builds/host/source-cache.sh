#!/usr/bin/env bash
# The host's cache of source archives uploaded from the controller (a topology's `source: { path }`):
# one file per content, $NMTB_CACHE_DIR/sources/<sha256>.<ext>, which fetch.sh and qemu/build.sh
# then take as `--path`. The upload itself is the controller's (SFTP, as the SSH user, to a
# temporary file); `store` takes it over as root only after checking its bytes, so nothing the
# cache holds is ever trusted on its name.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: source-cache.sh status --sha256 HEX --ext EXT
       source-cache.sh check  --sha256 HEX --ext EXT
       source-cache.sh store  --sha256 HEX --ext EXT --from FILE
       source-cache.sh remove --sha256 HEX --ext EXT

  --sha256 HEX  the archive's sha256 as the controller computed it
  --ext EXT     tar, tar.gz, tgz or tar.xz (fetch.sh and qemu/build.sh tell archives by name)
  --from FILE   the uploaded copy: checked, copied into the cache, then deleted (also on failure)
status reports "present"; check exits 0 when the cache holds the archive with those bytes, 3 when
it does not (the controller uploads nothing when it does).
environment: NMTB_CACHE_DIR
stdout: {"path","sha256","present"|"stored"|"removed"}
USAGE
}

action="${1:-}"
case "$action" in
  status | check | store | remove) shift ;;
  -h | --help) usage; exit 0 ;;
  *) nmtb_usage_error "first argument: status, check, store or remove" ;;
esac
sha="" ext="" from=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sha256) sha="$(nmtb_flag_value "$@")"; shift 2 ;;
    --ext) ext="$(nmtb_flag_value "$@")"; shift 2 ;;
    --from) from="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
nmtb_require_match --sha256 "$sha" '^[0-9a-f]{64}$' "64 lower-case hex digits"
nmtb_require_match --ext "$ext" '^(tar|tar\.gz|tgz|tar\.xz)$' "tar, tar.gz, tgz or tar.xz"
# Whatever happens below, the uploaded copy goes: it is the SSH user's, in a shared directory.
nmtb_cache_upload_arg "$action" "$from"

dir="$NMTB_CACHE_DIR/sources"
file="$dir/$sha.$ext"
cached() { [[ -f $file && ! -L $file && $(nmtb_sha256_file "$file") == "$sha" ]]; }
emit() { printf '{"path":%s,"sha256":%s,%s}\n' "$(nmtb_json_str "$file")" "$(nmtb_json_str "$sha")" "$1"; }

nmtb_cache_answer "$action" "$file"

if cached; then
  nmtb_log "$file already cached"
  emit '"stored":false'
  exit 0
fi
[[ -f $from && ! -L $from ]] || nmtb_die "the uploaded $from is not a regular file: nothing stored"
mkdir -p -- "$dir"
chmod 0755 "$dir"
# The copy is checked, not the upload: the upload stays writable by its owner until it is gone.
tmp="$(mktemp "$dir/.store.XXXXXX")"
trap 'rm -f -- "$from" "$tmp"' EXIT
cp -- "$from" "$tmp"
actual="$(nmtb_sha256_file "$tmp")"
[[ $actual == "$sha" ]] ||
  nmtb_die "the uploaded source has sha256 $actual, not the controller's $sha (changed on the controller since the deployment read it, or damaged in transit): nothing stored"
chmod 0644 "$tmp"
mv -f -- "$tmp" "$file"
nmtb_log "stored $file"
emit '"stored":true'

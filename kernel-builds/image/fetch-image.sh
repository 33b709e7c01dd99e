#!/usr/bin/env bash
# Downloads a guest (cloud) image, verifies its sha256 or sha512 and keeps it in a cache as
# CACHE/<sha256>.img or CACHE/sha512-<sha512>.img. A cached image is not downloaded again; a
# mismatch keeps nothing.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/vm.sh
. "$here/../lib/vm.sh"

usage() {
  cat <<'EOF'
usage: fetch-image.sh --url URL (--sha256 HEX | --sha512 HEX) [--cache-dir DIR]

  --url URL        http(s)/ftp/file URL of the image (qcow2 or raw)
  --sha256 HEX     expected sha256 of the file (64 hex digits)
  --sha512 HEX     expected sha512 of the file (128 hex digits), e.g. from Debian's SHA512SUMS
  --cache-dir DIR  where images are kept (default $NMTB_CACHE_DIR/images)

Exactly one of --sha256 and --sha512. Uses curl, or wget when curl is missing.
Environment: NMTB_CACHE_DIR.
stdout: one JSON object {"path","algorithm","digest","cached","bytes","url"}.
EOF
}

url="" algorithm="" digest="" cache_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --url) url="$(nmtb_flag_value "$@")" && shift 2 ;;
    --sha256 | --sha512)
      [[ -z $algorithm ]] || nmtb_usage_error "give exactly one of --sha256 and --sha512"
      algorithm="${1#--}"
      digest="$(nmtb_flag_value "$@")" && shift 2
      ;;
    --cache-dir) cache_dir="$(nmtb_flag_value "$@")" && shift 2 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) nmtb_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n $url ]] || nmtb_usage_error "--url is required"
[[ -n $algorithm ]] || nmtb_usage_error "--sha256 or --sha512 is required"
nmtb_require_match "--url" "$url" '^(https?|ftp|file)://[A-Za-z0-9._~:/?#@!&+,;=%-]+$' \
  'an http(s)://, ftp:// or file:// URL without spaces or quotes'
digest="${digest,,}"
case "$algorithm" in
  sha256)
    nmtb_require_match "--sha256" "$digest" '^[0-9a-f]{64}$' '64 hexadecimal digits'
    # Unprefixed, as before sha512 existed: caches and the VM overlays backed by them stay valid.
    name="$digest.img"
    ;;
  sha512)
    nmtb_require_match "--sha512" "$digest" '^[0-9a-f]{128}$' '128 hexadecimal digits'
    name="sha512-$digest.img"
    ;;
esac
cache_dir="${cache_dir:-$NMTB_CACHE_DIR/images}"
nmtb_require_path "$cache_dir" "--cache-dir"

target="$cache_dir/$name"
emit() {
  printf '{"path":%s,"algorithm":%s,"digest":%s,"cached":%s,"bytes":%s,"url":%s}\n' \
    "$(nmtb_json_str "$target")" "$(nmtb_json_str "$algorithm")" "$(nmtb_json_str "$digest")" \
    "$(nmtb_json_bool "$1")" "$(stat -c %s "$target")" "$(nmtb_json_str "$url")"
}

if [[ -s $target ]]; then
  nmtb_log "$target is cached"
  emit true
  exit 0
fi

mkdir -p "$cache_dir"
tmp="$(mktemp "$cache_dir/.download.XXXXXX")"
trap 'rm -f -- "$tmp"' EXIT

nmtb_log "downloading $url"
if command -v curl >/dev/null 2>&1; then
  curl -fsSL --retry 3 --connect-timeout 30 -o "$tmp" -- "$url" 2>"$tmp.err" || {
    err="$(cat "$tmp.err")"
    rm -f -- "$tmp.err"
    nmtb_die "downloading $url failed: $err"
  }
  rm -f -- "$tmp.err"
elif command -v wget >/dev/null 2>&1; then
  wget -q --tries=3 --timeout=30 -O "$tmp" -- "$url" || nmtb_die "downloading $url failed (wget exit $?)"
else
  nmtb_die "neither curl nor wget is installed (apt-get install curl)"
fi

case "$algorithm" in
  sha256) got="$(nmtb_sha256_file "$tmp")" ;;
  sha512) got="$(sha512sum "$tmp" | cut -d' ' -f1)" ;;
esac
if [[ $got != "$digest" ]]; then
  nmtb_die "$algorithm mismatch for $url: expected $digest, got $got ($(stat -c %s "$tmp") bytes); nothing kept"
fi
mv -f -- "$tmp" "$target"
trap - EXIT
nmtb_log "verified and cached as $target"
emit false

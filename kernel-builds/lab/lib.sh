# shellcheck shell=bash
# Helpers shared by the local-lab scripts (kernel-builds/lab/*.sh). Sourced, never run.
# Kept self-contained (no dependency on kernel-builds/lib) so the lab scripts also work
# when copied alone to a user's machine.

NMTB_LAB_PROG="${NMTB_LAB_PROG:-$(basename "${0}")}"

log() { printf '%s: %s\n' "$NMTB_LAB_PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage_error() { log "$*"; usage >&2; exit 2; }

# json_str VALUE -> a JSON string literal (quotes included).
json_str() {
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      '"') out+='\"' ;;
      "\\") out+="\\\\" ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      *)
        if [[ "$c" < ' ' ]]; then
          out+="$(printf '\\u%04x' "'$c")"
        else
          out+="$c"
        fi
        ;;
    esac
  done
  printf '"%s"' "$out"
}

# now_ms -> milliseconds since the epoch.
now_ms() { date +%s%3N; }

# need_cmd CMD... -> dies naming the first missing command.
need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed (see docs/local-lab.md, Requirements)"
  done
}

# valid_name VALUE WHAT -> dies unless VALUE is a safe short name.
valid_name() {
  [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$ ]] || die "$2 '$1' is not a valid name ([A-Za-z0-9][A-Za-z0-9_.-]{0,62})"
}

# valid_uint VALUE WHAT
valid_uint() {
  [[ "$1" =~ ^[0-9]+$ ]] || die "$2 '$1' is not a non-negative integer"
}

nmtb_cache_root() { printf '%s' "${XDG_CACHE_HOME:-$HOME/.cache}/netmap-testbed"; }

#!/usr/bin/env bash
# Stops a lab host started by boot-host.sh: graceful poweroff (ssh `systemctl poweroff` with the
# host's own key and pinned host key, else ACPI powerdown over the QMP socket), a bounded wait,
# then SIGTERM/SIGKILL. Removes the state dir (overlay, keys, logs) unless --keep-overlay.
# Idempotent: a state dir that is absent or whose VM is gone is just cleaned up.
set -euo pipefail
NMTB_LAB_PROG="stop-host.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=kernel-builds/lab/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: stop-host.sh --state-dir DIR [--keep-overlay] [--timeout SECONDS] [--force] [-h]
  --state-dir DIR   the --state-dir given to boot-host.sh
  --keep-overlay    keep the overlay and keys (boot-host.sh on the same dir resumes the host);
                    otherwise the whole state dir is removed
  --timeout S       bound on the graceful poweroff (default 30), then the VM is killed
  --force           skip the graceful poweroff (the overlay is discarded anyway)
stdout: {"stateDir":...,"wasRunning":bool,"graceful":bool,"removed":bool,"seconds":N}
USAGE
}

state_dir="" keep=0 timeout_s=30 force=0
while (($#)); do
  case "$1" in
    --state-dir) state_dir="${2:?}"; shift 2 ;;
    --keep-overlay) keep=1; shift ;;
    --timeout) timeout_s="${2:?}"; shift 2 ;;
    --force) force=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done
[[ -n "$state_dir" ]] || usage_error "--state-dir is required"
valid_uint "$timeout_s" --timeout
start="$(now_ms)"

emit() { # wasRunning graceful removed
  printf '{"stateDir":%s,"wasRunning":%s,"graceful":%s,"removed":%s,"seconds":%s}\n' \
    "$(json_str "$state_dir")" "$1" "$2" "$3" "$((($(now_ms) - start) / 1000))"
}

if [[ ! -d "$state_dir" ]]; then
  log "$state_dir does not exist: nothing to stop"
  emit false false false
  exit 0
fi
state_dir="$(cd "$state_dir" && pwd)"
[[ -e "$state_dir/.nmtb-lab-host" ]] || die "$state_dir is not a boot-host.sh state dir (no .nmtb-lab-host marker); refusing to touch it"

pid=""
if [[ -s "$state_dir/qemu.pid" ]]; then
  p="$(tr -dc '0-9' <"$state_dir/qemu.pid")"
  # Only a QEMU whose command line names this state dir (guards against a recycled pid).
  if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -F -- "$state_dir/"; then
    pid="$p"
  fi
fi

alive() { [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }
wait_gone() { # seconds
  local end=$(($(date +%s) + $1))
  while alive; do
    (($(date +%s) < end)) || return 1
    sleep 0.5
  done
}

was_running=false graceful=false
if alive; then
  was_running=true
  if ((!force)) && ((timeout_s > 0)); then
    port="$(sed -n 's/.*"sshPort":\([0-9]*\).*/\1/p' "$state_dir/host.json" 2>/dev/null || true)"
    asked=0
    if [[ -n "$port" && -s "$state_dir/id_ed25519" && -s "$state_dir/known_hosts" ]]; then
      log "powering off via ssh (127.0.0.1:$port)"
      if timeout 15 ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$state_dir/known_hosts" \
        -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR -i "$state_dir/id_ed25519" \
        -p "$port" root@127.0.0.1 'systemctl poweroff --no-block || poweroff' </dev/null >&2; then
        asked=1
      fi
    fi
    if ((!asked)) && [[ -S "$state_dir/qmp.sock" ]]; then
      qmp_cmd=$'{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n'
      if command -v socat >/dev/null 2>&1; then
        printf '%s' "$qmp_cmd" | timeout 5 socat - "UNIX-CONNECT:$state_dir/qmp.sock" >/dev/null 2>&1 && asked=1
      elif nc -h 2>&1 | grep -q -- '-U'; then
        printf '%s' "$qmp_cmd" | timeout 5 nc -U -q 2 "$state_dir/qmp.sock" >/dev/null 2>&1 && asked=1
      fi
      ((asked)) && log "asked for an ACPI powerdown over QMP"
    fi
    if ((asked)) && wait_gone "$timeout_s"; then
      graceful=true
    fi
  fi
  if alive; then
    log "killing qemu pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone 5 || kill -KILL "$pid" 2>/dev/null || true
    wait_gone 5 || die "qemu pid $pid does not die"
  fi
fi

removed=false
if ((keep)); then
  rm -f "$state_dir/qemu.pid" "$state_dir/qmp.sock" "$state_dir/host.json"
else
  rm -rf "$state_dir"
  removed=true
fi
log "stopped (wasRunning=$was_running graceful=$graceful removed=$removed)"
emit "$was_running" "$graceful" "$removed"

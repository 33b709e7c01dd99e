#!/usr/bin/env bash
# Decides whether QEMU can really run a Linux guest under KVM on this machine, or must use TCG.
# An openable /dev/kvm is not enough (nested or broken setups fail with "KVM internal error ...
# emulation failure"), so it boots the lab kernel under `-accel kvm` without a root disk and
# waits for the expected "VFS: Unable to mount root" panic. The answer is cached per boot of
# this machine, QEMU version and kernel image.
set -euo pipefail
NMTB_LAB_PROG="detect-accel.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=kernel-builds/lab/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: detect-accel.sh --kernel VMLINUZ [--timeout SECONDS] [--cache-dir DIR] [--no-cache] [-h]
  --kernel FILE     a Linux kernel image to probe with (the lab image's vmlinuz)
  --timeout S       seconds to wait for the probe kernel to reach its panic (default 40)
  --cache-dir DIR   where probe results live (default ${XDG_CACHE_HOME:-$HOME/.cache}/netmap-testbed/accel)
  --no-cache        probe even if a cached answer exists
Environment: NMTB_ACCEL=kvm|tcg overrides the probe (answer reported with "forced":true).
stdout: {"accel":"kvm"|"tcg","kvmWorks":bool,"reason":"...","cached":bool,"seconds":N}
USAGE
}

kernel=""
timeout_s=40
cache_dir="$(nmtb_cache_root)/accel"
use_cache=1
while (($#)); do
  case "$1" in
    --kernel) kernel="${2:?}"; shift 2 ;;
    --timeout) timeout_s="${2:?}"; shift 2 ;;
    --cache-dir) cache_dir="${2:?}"; shift 2 ;;
    --no-cache) use_cache=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done
[[ -n "$kernel" ]] || usage_error "--kernel is required"
[[ -f "$kernel" ]] || die "--kernel '$kernel' does not exist"
valid_uint "$timeout_s" "--timeout"

result() { # accel kvmWorks reason cached seconds [forced]
  printf '{"accel":%s,"kvmWorks":%s,"reason":%s,"cached":%s,"seconds":%s%s}\n' \
    "$(json_str "$1")" "$2" "$(json_str "$3")" "$4" "$5" "${6:+,\"forced\":true}"
}

case "${NMTB_ACCEL:-}" in
  kvm) result kvm true "NMTB_ACCEL=kvm" false 0 1; exit 0 ;;
  tcg) result tcg false "NMTB_ACCEL=tcg" false 0 1; exit 0 ;;
  "" | auto) ;;
  *) die "NMTB_ACCEL must be kvm, tcg or auto" ;;
esac

need_cmd qemu-system-x86_64 sha256sum
boot_id="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)"
qver="$(qemu-system-x86_64 --version | head -n1)"
ksum="$(sha256sum "$kernel" | cut -c1-32)"
key="$(printf '%s\n%s\n%s\n%s\n' "$boot_id" "$qver" "$ksum" "$(uname -r)" | sha256sum | cut -c1-32)"
cache_file="$cache_dir/$key.json"
if ((use_cache)) && [[ -s "$cache_file" ]]; then
  log "cached probe result $cache_file"
  sed -e 's/"cached":false/"cached":true/' "$cache_file"
  exit 0
fi

start="$(now_ms)"
finish() { # accel kvmWorks reason
  local secs json
  secs="$((($(now_ms) - start) / 1000))"
  json="$(result "$1" "$2" "$3" false "$secs")"
  mkdir -p "$cache_dir"
  printf '%s\n' "$json" >"$cache_file.tmp.$$" && mv "$cache_file.tmp.$$" "$cache_file"
  log "accel=$1 ($3)"
  printf '%s\n' "$json"
  exit 0
}

if [[ ! -e /dev/kvm ]]; then finish tcg false "/dev/kvm does not exist"; fi
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then finish tcg false "/dev/kvm is not read/writable by $(id -un) (add the user to group kvm)"; fi

work="$(mktemp -d)"
qpid=""
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  if [[ -n "$qpid" ]] && kill -0 "$qpid" 2>/dev/null; then
    kill -KILL "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

log "probing KVM: booting $kernel under -accel kvm (up to $timeout_s s)"
qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 -nodefaults -display none -no-reboot \
  -kernel "$kernel" -append "console=ttyS0 panic=-1 loglevel=4" \
  -serial "file:$work/console.log" >"$work/qemu.out" 2>&1 &
qpid=$!
disown "$qpid" 2>/dev/null || true
deadline=$(($(date +%s) + timeout_s))
verdict=""
while :; do
  if grep -q -E 'VFS: Unable to mount root|Kernel panic|Run /init|Freeing unused kernel' "$work/console.log" 2>/dev/null; then
    verdict=ok
    break
  fi
  if grep -q -i -E 'KVM internal error|emulation failure|failed to initialize kvm|Could not access KVM' "$work/qemu.out" 2>/dev/null; then
    verdict="$(grep -i -m1 -E 'KVM internal error|emulation failure|failed to initialize kvm|Could not access KVM' "$work/qemu.out")"
    break
  fi
  if ! kill -0 "$qpid" 2>/dev/null; then
    # Exited before the panic: re-check the log once (panic=-1 + -no-reboot exits right after).
    if grep -q -E 'VFS: Unable to mount root|Kernel panic' "$work/console.log" 2>/dev/null; then
      verdict=ok
    else
      verdict="qemu exited early: $(tail -n 3 "$work/qemu.out" | tr '\n' ' ' | sed 's/ *$//')"
    fi
    break
  fi
  if (($(date +%s) >= deadline)); then
    verdict="no kernel output under KVM within $timeout_s s"
    break
  fi
  sleep 0.3
done

if [[ "$verdict" == ok ]]; then
  finish kvm true "a Linux kernel boots under KVM"
fi
finish tcg false "KVM cannot run Linux guests here: $verdict"

#!/usr/bin/env bash
# Makes what a test process started die with it. A test process that is SIGKILLed (a killed CI
# job, the OOM killer, `kill -9` on jest) runs no exit hook, and what it started outlives it:
# QEMU daemonizes into its own session, sshd keeps running in its namespace, and namespaces
# persist with no process at all. The fixtures start this script detached (its own session, so
# a signal to the test run's process group does not reach it); it polls the owner and, once the
# owner is gone, removes what the owner left.
#
# Usage: watchdog.sh guest-run OWNER INTERVAL RUN_DIR
#        watchdog.sh netns-lab OWNER INTERVAL LAB_ID LAB_DIR SUBNET_LOCK
#        watchdog.sh tagged OWNER INTERVAL
#
#   OWNER      PID:STARTTIME (STARTTIME: field 22 of /proc/PID/stat), so that a recycled pid is
#              not taken for the owner; a zombie owner counts as gone
#   INTERVAL   seconds between two looks at the owner; 0 = look once, now: reap if the owner is
#              gone, else exit 3 (used by the start-of-run clean-up)
#   guest-run  RUN_DIR: a startGuestHosts() run dir (test/fixtures/guest-host.ts); every host in
#              it is stopped with stop-host.sh --force, processes whose command line names the
#              run dir (a boot-host.sh still booting, its QEMU) are killed, the dir is removed
#   netns-lab  a createNetnsLab() lab (test/fixtures/netns-hosts.ts): netns-lab.sh destroy (kills
#              every process in its namespaces, sshd included), removes LAB_DIR and SUBNET_LOCK
#   tagged     kills every process whose environment has NMTB_TEST_RUN=OWNER (set for the whole
#              jest run by test/support/global-setup.ts: catches what no fixture tracks)
#
# guest-run and netns-lab exit 0 as soon as their dir is gone (the owner cleaned up itself).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

usage() {
  sed -n '9,11p' "$0" | sed 's/^# //' >&2
  exit 2
}

[[ $# -ge 3 ]] || usage
mode=$1 owner=$2 interval=$3
shift 3
[[ $owner =~ ^([0-9]+):([0-9]+)$ ]] || usage
owner_pid=${BASH_REMATCH[1]} owner_start=${BASH_REMATCH[2]}
[[ $interval =~ ^[0-9]+$ ]] || usage
case "$mode:$#" in
  guest-run:1) guard=$1 ;;
  netns-lab:3) guard=$2 ;;
  tagged:0) guard="" ;;
  *) usage ;;
esac

# True while the owner runs: same pid, same start time, not a zombie.
owner_alive() {
  local stat fields
  { read -r stat <"/proc/$owner_pid/stat"; } 2>/dev/null || return 1
  read -r -a fields <<<"${stat##*) }"
  [[ ${fields[0]} != Z && ${fields[19]:-} == "$owner_start" ]]
}

# Pids (not this script) whose command line has an argument containing $1. Pure bash: no child
# process whose own command line would match.
pids_naming() {
  local dir pid args arg
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
    { mapfile -d '' -t args <"$dir/cmdline"; } 2>/dev/null || continue
    for arg in "${args[@]}"; do
      if [[ $arg == *"$1"* ]]; then
        printf '%s\n' "$pid"
        break
      fi
    done
  done
}

# Pids (not this script) whose environment has exactly the entry $1.
pids_with_env() {
  local dir pid vars var
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
    { mapfile -d '' -t vars <"$dir/environ"; } 2>/dev/null || continue
    for var in "${vars[@]}"; do
      if [[ $var == "$1" ]]; then
        printf '%s\n' "$pid"
        break
      fi
    done
  done
}

# kill_all LISTER ARG: SIGTERM to what LISTER ARG prints, up to 5 s for it to go, then SIGKILL to
# what LISTER still prints (listed again, so a pid reused meanwhile is not hit).
kill_all() {
  local pids i
  mapfile -t pids < <("$1" "$2")
  ((${#pids[@]} > 0)) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    mapfile -t pids < <("$1" "$2")
    ((${#pids[@]} > 0)) || return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

reap_guest_run() {
  local run_dir=$1 host
  for host in "$run_dir"/*/; do
    [[ -e $host.nmtb-lab-host ]] || continue
    timeout 60 bash "$root/kernel-builds/lab/stop-host.sh" --state-dir "$host" --force >/dev/null 2>&1 || true
  done
  # QEMU's argv names its state dir (pidfile, overlay), boot-host.sh's names --state-dir.
  kill_all pids_naming "$run_dir/"
  rm -rf "$run_dir"
}

reap_netns_lab() {
  local lab_id=$1 lab_dir=$2 lock=$3
  timeout 60 bash "$root/test/fixtures/netns/netns-lab.sh" destroy "$lab_id" >/dev/null 2>&1 || true
  rm -rf "$lab_dir"
  if [[ -f $lock && $(<"$lock") == "$lab_id" ]]; then
    rm -f "$lock"
  fi
}

reap() {
  case "$mode" in
    guest-run) reap_guest_run "$@" ;;
    netns-lab) reap_netns_lab "$@" ;;
    tagged) kill_all pids_with_env "NMTB_TEST_RUN=$owner" ;;
  esac
}

if ((interval == 0)); then
  owner_alive && exit 3
  reap "$@"
  exit 0
fi

while owner_alive; do
  [[ -z $guard || -e $guard ]] || exit 0
  sleep "$interval"
done
reap "$@"

#!/usr/bin/env bash
# The main job: deploy the `local` stack (stacks/Pulumi.local.yaml, stacks/topologies/local.yaml)
# onto lab hosts made on this machine, with the real Pulumi engine (tools/with-pulumi.sh: a local
# file backend and a generated passphrase unless PULUMI_BACKEND_URL / PULUMI_CONFIG_PASSPHRASE say
# otherwise), then measures it with playbooks/demo-local.yaml and prints where the report and plots
# are; `npm run demo -- destroy` tears the lab down again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  echo "usage: up-local.sh [up|preview|refresh|destroy] [--with-vms]" >&2
  exit 2
}
action=up with_vms=0
while (($#)); do
  case "$1" in
    up | destroy | preview | refresh) action="$1" ;;
    --with-vms) with_vms=1 ;;
    *) usage ;;
  esac
  shift
done

pulumi=(bash tools/with-pulumi.sh pulumi)

# The short playbook on what was deployed. The VMs run with the lab host's accelerator; under TCG
# ptnet's passthrough cannot start (QEMU wires its notifications through KVM's ioeventfd and
# irqfd), so there only the lab host's own runs are measured, and the demo says why.
measure_demo() {
  local host_json="${HOME}/.cache/netmap-testbed/lab/local-lab1/host.json" accel runs=() out dir
  accel="$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).accel ?? ""))' \
    "$host_json" 2>/dev/null || true)"
  if [[ $accel != kvm ]]; then
    echo "[demo] the lab host runs under ${accel:-an unknown accelerator} (no usable KVM here): ptnet passthrough needs KVM, so the VM-to-VM run is skipped; measuring the lab host's VALE switch and pipe" >&2
    runs=(--run host-vale --run host-pipe)
  fi
  echo "[demo] measuring: netmap-testbed run playbooks/demo-local.yaml --stack local ${runs[*]}" >&2
  if ! out="$(npm run --silent netmap-testbed -- run playbooks/demo-local.yaml --stack local "${runs[@]}")"; then
    echo "[demo] the measurement failed (above); the testbed stays deployed" >&2
    return 1
  fi
  dir="${out#results: }"
  echo "[demo] results: $dir" >&2
  echo "[demo] report:  $dir/report.md" >&2
  for plot in "$dir"/*.svg; do
    [[ -e $plot ]] && echo "[demo] plot:    $plot" >&2
  done
  return 0
}

topology=stacks/topologies/local.yaml
# A topology error stops the demo before anything is created, at the file, line and field that
# need fixing (an edited image entry's placeholder digest, say), not halfway through a deployment.
npm run --silent netmap-testbed -- validate "$topology"
"${pulumi[@]}" stack select local >/dev/null 2>&1 || "${pulumi[@]}" stack init local
if [[ $action == preview ]]; then
  exec "${pulumi[@]}" preview --stack local
fi

# Without KVM here the lab host runs under TCG and its VMs are emulated inside it: far too slow for
# a demo (kernel-builds/lab/nested-kvm.sh says how slow), so unless asked for, the VMs and what
# only they need (their image's packing and upload, their seeds) are declared but left alone:
# `--exclude` neither creates nor removes them, so a later `--with-vms` adds them and a plain
# `npm run demo` after it keeps them.
up_args=()
if [[ $action == up ]] && ((!with_vms)) && ! why="$(bash kernel-builds/lab/nested-kvm.sh 2>&1)"; then
  echo "[demo] no KVM for the lab host: ${why}. The VMs are declared but not started: emulated inside the emulated lab host, one took more than 24 min to boot on a 2-core machine. Start them anyway with: npm run demo -- up --with-vms" >&2
  up_args=(--exclude-dependents)
  for vm_only in GuestImagePack GuestImageStore GuestNetmapUpload VmSeed Vm; do
    up_args+=(--exclude "**:${vm_only}::**")
  done
fi

# The engine's events (--json), read by tools/demo-progress.ts: each phase as it starts (with how
# long it took where this was measured) and as it ends, and the engine's warnings and errors.
# Every event is kept in the log for the details.
events="${XDG_STATE_HOME:-$HOME/.local/state}/netmap-testbed/demo-$action.jsonl"
mkdir -p "$(dirname "$events")"
echo "[demo] pulumi $action; every engine event goes to $events" >&2
started=$SECONDS
set +e
"${pulumi[@]}" "$action" --yes --stack local --json "${up_args[@]}" |
  node -r ts-node/register/transpile-only tools/demo-progress.ts "$events"
status=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - started))
if ((status != 0)); then
  echo "[demo] pulumi $action failed after ${elapsed} s (exit $status): the engine's output above names the host, the step and the tail of its output" >&2
  exit "$status"
fi
echo "[demo] pulumi $action done in $((elapsed / 60)) min $((elapsed % 60)) s" >&2
if [[ $action == up ]]; then
  "${pulumi[@]}" stack output --stack local --json
  measured=0
  measure_demo || measured=$?
  echo "[demo] tear down with: npm run demo -- destroy" >&2
  exit "$measured"
fi

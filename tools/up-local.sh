#!/usr/bin/env bash
# The main job: deploy the `local` stack (stacks/Pulumi.local.yaml, stacks/topologies/local.yaml)
# onto lab hosts made on this machine, with the real Pulumi engine (tools/with-pulumi.sh: a local
# file backend and a generated passphrase unless PULUMI_BACKEND_URL / PULUMI_CONFIG_PASSPHRASE say
# otherwise); `npm run demo -- destroy` tears the lab down again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

action="${1:-up}"
case "$action" in
  up | destroy | preview | refresh) ;;
  *)
    echo "usage: up-local.sh [up|preview|refresh|destroy]" >&2
    exit 2
    ;;
esac

pulumi=(bash tools/with-pulumi.sh pulumi)

topology=stacks/topologies/local.yaml
# A topology error stops the demo before anything is created, at the file, line and field that
# need fixing (an edited image entry's placeholder digest, say), not halfway through a deployment.
npm run --silent netmap-testbed -- validate "$topology"
"${pulumi[@]}" stack select local >/dev/null 2>&1 || "${pulumi[@]}" stack init local
if [[ $action == preview ]]; then
  exec "${pulumi[@]}" preview --stack local
fi

# The engine's events (--json), read by tools/demo-progress.ts: each phase as it starts (with how
# long it took where this was measured) and as it ends, and the engine's warnings and errors.
# Every event is kept in the log for the details.
events="${XDG_STATE_HOME:-$HOME/.local/state}/netmap-testbed/demo-$action.jsonl"
mkdir -p "$(dirname "$events")"
echo "[demo] pulumi $action; every engine event goes to $events" >&2
started=$SECONDS
set +e
"${pulumi[@]}" "$action" --yes --stack local --json |
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
  echo "[demo] tear down with: npm run demo -- destroy" >&2
fi

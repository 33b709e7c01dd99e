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
case "$action" in
  up | destroy | refresh) "${pulumi[@]}" "$action" --yes --stack local ;;
  preview) "${pulumi[@]}" preview --stack local ;;
esac

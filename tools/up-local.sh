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
# Stops before anything is created, rather than at the image step halfway through: validate
# refuses a placeholder image digest at its line, saying where the real one comes from.
npm run --silent netmap-testbed -- validate "$topology"
"${pulumi[@]}" stack select local >/dev/null 2>&1 || "${pulumi[@]}" stack init local
case "$action" in
  up | destroy | refresh) "${pulumi[@]}" "$action" --yes --stack local ;;
  preview) "${pulumi[@]}" preview --stack local ;;
esac

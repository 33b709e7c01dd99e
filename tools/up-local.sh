#!/usr/bin/env bash
# The main job: deploy the `local` stack (stacks/Pulumi.local.yaml, stacks/topologies/local.yaml)
# onto lab hosts made on this machine. Uses the Pulumi CLI through the `pulumi` npm launcher and
# a local state backend unless PULUMI_BACKEND_URL says otherwise; `npm run demo -- destroy`
# tears the lab down again.
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

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$HOME}"
# The local stack holds no secrets of the user's: an empty passphrase unless one is given.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
export PULUMI_SKIP_UPDATE_CHECK=true

npm run --silent netmap-testbed -- validate stacks/topologies/local.yaml
npx pulumi stack select local >/dev/null 2>&1 || npx pulumi stack init local
case "$action" in
  up | destroy | refresh) npx pulumi "$action" --yes --stack local ;;
  preview) npx pulumi preview --stack local ;;
esac

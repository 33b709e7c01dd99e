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
npm run --silent netmap-testbed -- validate "$topology"
# The guest image's checksum must be pinned by you (Debian publishes SHA512SUMS, not sha256):
# stop before anything is created rather than fail at the image step halfway through.
if grep -qE 'sha256: *"?0{64}"?' "$topology"; then
  cat >&2 <<EOF2
up-local: $topology still has the placeholder sha256 for its guest image. Pin it first:
  url=\$(sed -n 's/^ *url: *//p' $topology | head -n1)
  curl -fL -o /tmp/guest.qcow2 "\$url" && sha512sum /tmp/guest.qcow2   # compare with Debian's SHA512SUMS
  sha256sum /tmp/guest.qcow2                                            # put this in $topology
EOF2
  exit 1
fi
"${pulumi[@]}" stack select local >/dev/null 2>&1 || "${pulumi[@]}" stack init local
case "$action" in
  up | destroy | refresh) "${pulumi[@]}" "$action" --yes --stack local ;;
  preview) "${pulumi[@]}" preview --stack local ;;
esac

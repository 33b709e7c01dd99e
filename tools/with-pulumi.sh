#!/usr/bin/env bash
# Runs a command with the real Pulumi engine first on PATH (tools/pulumi-engine.sh) and, unless
# you chose your own, a local file backend and a generated state passphrase:
#   backend     file://${XDG_STATE_HOME:-~/.local/state}/netmap-testbed/pulumi   (PULUMI_BACKEND_URL)
#   passphrase  ${XDG_STATE_HOME:-~/.local/state}/netmap-testbed/passphrase, mode 0600, made once
#               (PULUMI_CONFIG_PASSPHRASE / PULUMI_CONFIG_PASSPHRASE_FILE)
# Keep the passphrase file: without it the stacks' secrets cannot be decrypted.
# usage: with-pulumi.sh COMMAND [ARG]...      e.g. with-pulumi.sh pulumi stack ls
set -euo pipefail
if [[ $# -eq 0 ]]; then
  echo "usage: with-pulumi.sh COMMAND [ARG]..." >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$(bash "$here/pulumi-engine.sh")"
export PATH="$bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK:-true}"

state="${XDG_STATE_HOME:-$HOME/.local/state}/netmap-testbed"
if [[ -z ${PULUMI_BACKEND_URL:-} ]]; then
  mkdir -p "$state/pulumi"
  chmod 0700 "$state"
  export PULUMI_BACKEND_URL="file://$state/pulumi"
fi
if [[ -z ${PULUMI_CONFIG_PASSPHRASE+set} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
  passphrase="$state/passphrase"
  if [[ ! -s $passphrase ]]; then
    mkdir -p "$state"
    chmod 0700 "$state"
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n' >"$passphrase")
    echo "with-pulumi: generated the state passphrase $passphrase (keep it: it decrypts your stacks' secrets)" >&2
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase"
fi
exec "$@"

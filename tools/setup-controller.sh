#!/usr/bin/env bash
# Installs what the controller (the machine running `pulumi up` or the tests) needs, from
# Debian's packages and the npm registry only. Idempotent; safe to run on every invocation.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  openssh-server openssh-client # test hosts' sshd, ssh-keygen
  iproute2 procps psmisc        # network-namespace test hosts
  qemu-system-x86 qemu-utils    # the local lab and guest test hosts
  debootstrap e2fsprogs         # the lab's base image recipe
  shellcheck                    # npm run lint
  genisoimage dosfstools mtools # cloud-init seeds for guest VMs
  ca-certificates curl tar gzip git python3 util-linux
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-controller: need root to install: ${missing[*]} (rerun with sudo)" >&2
    exit 1
  fi
  echo "setup-controller: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup-controller: npm ci" >&2
  npm ci --no-audit --no-fund
fi

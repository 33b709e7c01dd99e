#!/usr/bin/env bash
# Installs what the controller (the machine running `pulumi up` or the tests) needs, from
# Debian's packages and the npm registry only. Idempotent; safe to run on every invocation.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# How long each phase took, on stderr and, for .ci/run's summary, in $NMTB_CI_TIMINGS.
now_ms() { date +%s%3N; }
phase_done() { # LABEL START_MS
  local ms=$(($(now_ms) - $2))
  local seconds="$((ms / 1000)).$((ms % 1000 / 100))"
  echo "setup-controller: $1 took $seconds s" >&2
  if [[ -n ${NMTB_CI_TIMINGS:-} ]]; then printf 'phase\t%s\t%s\n' "$1" "$seconds" >>"$NMTB_CI_TIMINGS"; fi
}
setup_start="$(now_ms)"

packages=(
  openssh-server openssh-client # test hosts' sshd, ssh-keygen
  iproute2 procps psmisc ethtool # network-namespace test hosts; NIC facts in playbook manifests
  qemu-system-x86 qemu-utils    # the local lab and guest test hosts
  debootstrap e2fsprogs         # the lab's base image recipe
  shellcheck                    # npm run lint
  make                          # kernel-builds/qemu/build.sh's unit test builds a stand-in QEMU tree
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

phase_done "set-up (apt + npm ci)" "$setup_start"

# The real Pulumi engine (CLI, Node.js language host, dynamic-provider launcher), cached.
engine_start="$(now_ms)"
bash tools/pulumi-engine.sh >/dev/null
phase_done "engine build (tools/pulumi-engine.sh)" "$engine_start"
if [[ -n ${NMTB_CI_TIMINGS:-} ]]; then printf 'mark\tsetup-end\t%s\n' "$(now_ms)" >>"$NMTB_CI_TIMINGS"; fi

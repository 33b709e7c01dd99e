#!/usr/bin/env bash
# The real end-to-end check for developers (docs/local-lab.md): the project's steps, through the
# real Pulumi engine, with the real netmap and ptnet QEMU sources given here (CI has stand-ins).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  cat <<'USAGE'
usage: npm run test:real -- --netmap SRC [--qemu SRC] [JEST_ARGS...]
  --netmap SRC   netmap's source: a directory or a tarball, e.g.
                 git -C netmap archive --prefix=netmap/ -o /tmp/netmap.tgz 89607e14
  --qemu SRC     netmap-unipi/qemu's source with ui/keycodemapdb filled in: a directory or a
                 tarball. With it, the local-lab check runs too (test/real/real-lab.test.ts):
                 the lab host through the real engine, as `npm run demo` deploys it.
Needs root (lab hosts, the native builds in the lab image's root) and the set-up of
tools/setup-controller.sh.
USAGE
}

netmap="" qemu=""
jest_args=()
while (($#)); do
  case "$1" in
    --netmap) netmap="${2:?--netmap needs a directory or tarball}"; shift 2 ;;
    --qemu) qemu="${2:?--qemu needs a directory or tarball}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) jest_args+=("$1"); shift ;;
  esac
done
[[ -n $netmap ]] || { usage >&2; exit 2; }
for source in "$netmap" ${qemu:+"$qemu"}; do
  [[ -e $source ]] || { echo "test-real: $source does not exist" >&2; exit 2; }
done
NMTB_REAL_NETMAP="$(realpath "$netmap")"
if [[ -d $NMTB_REAL_NETMAP ]]; then
  # The lifecycle test copies netmap to a lab guest as one tarball.
  packed="$(mktemp -d)/netmap.tgz"
  tar -C "$(dirname "$NMTB_REAL_NETMAP")" --exclude=.git -czf "$packed" "$(basename "$NMTB_REAL_NETMAP")"
  export NMTB_REAL_NETMAP_TARBALL="$packed"
else
  export NMTB_REAL_NETMAP_TARBALL="$NMTB_REAL_NETMAP"
fi
export NMTB_REAL_NETMAP
tests=(test/real/real-netmap-lifecycle.test.ts)
if [[ -n $qemu ]]; then
  NMTB_REAL_QEMU="$(realpath "$qemu")"
  export NMTB_REAL_QEMU
  tests+=(test/real/real-lab.test.ts)
fi
npm run build
exec npx jest "${tests[@]}" --selectProjects real --runInBand "${jest_args[@]}"

#!/usr/bin/env bash
# The real end-to-end check for developers (docs/local-lab.md): the project's steps, through the
# real Pulumi engine, on a lab guest, with the real netmap source given here (CI has stand-ins).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  cat <<'USAGE'
usage: npm run test:real -- --netmap TARBALL [JEST_ARGS...]
  --netmap TARBALL   netmap's source as a tarball, e.g.
                     git -C netmap archive --prefix=netmap/ -o /tmp/netmap.tgz 89607e14
Needs root (the lab guest, the native build in the lab image's root) and the set-up of
tools/setup-controller.sh.
USAGE
}

netmap=""
jest_args=()
while (($#)); do
  case "$1" in
    --netmap) netmap="${2:?--netmap needs a tarball}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) jest_args+=("$1"); shift ;;
  esac
done
[[ -n $netmap ]] || { usage >&2; exit 2; }
[[ -f $netmap ]] || { echo "test-real: $netmap is not a file" >&2; exit 2; }
NMTB_REAL_NETMAP="$(realpath "$netmap")"
export NMTB_REAL_NETMAP
npm run build
exec npx jest --selectProjects real --runInBand "${jest_args[@]}"

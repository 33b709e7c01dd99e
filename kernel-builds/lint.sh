#!/usr/bin/env bash
# Runs shellcheck on every host script, so `npm run lint` fails on a script that would.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
mapfile -t scripts < <(find "$root/kernel-builds" "$root/test" "$root/tools" "$root/.ci" -type f \( -name '*.sh' -o -name run \) -not -path '*/node_modules/*' | sort)
if ! command -v shellcheck >/dev/null 2>&1; then
  echo "lint.sh: shellcheck is not installed (apt-get install shellcheck)" >&2
  exit 1
fi
shellcheck -x "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean" >&2

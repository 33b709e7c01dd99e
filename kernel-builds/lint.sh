#!/usr/bin/env bash
# Runs shellcheck on every host script, so `npm run lint` fails on a script that would.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# Scripts by name, and the stand-ins named like the tools they stand in for (no .sh) by their shebang.
mapfile -t scripts < <(
  find "$root/kernel-builds" "$root/test" "$root/tools" "$root/.ci" -type f -not -path '*/node_modules/*' \
    \( -name '*.sh' -o -name run -o -exec sh -c 'head -n1 "$1" | grep -Eq "^#!(/usr/bin/env bash|/bin/bash)"' _ {} \; \) -print | sort -u
)
if ! command -v shellcheck >/dev/null 2>&1; then
  echo "lint.sh: shellcheck is not installed (apt-get install shellcheck)" >&2
  exit 1
fi
shellcheck -x "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean" >&2

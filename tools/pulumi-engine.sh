#!/usr/bin/env bash
# Makes the real Pulumi engine available and prints the directory holding it on stdout:
#   pulumi                          the CLI (the engine)
#   pulumi-language-nodejs          the Node.js language host that runs Pulumi programs
#   pulumi-resource-pulumi-nodejs   the launcher of the Node SDK's dynamic-provider host
# Put that directory first on PATH (tools/with-pulumi.sh does) before running `pulumi`.
#
# Where it comes from, first that works:
#   1. the cache: $NMTB_PULUMI_HOME (default ${XDG_CACHE_HOME:-$HOME/.cache}/netmap-testbed/pulumi/v<VERSION>)
#   2. Pulumi's official release tarball (a user's machine with internet)
#   3. a build from the Go module proxy (machines that reach only package registries):
#      tools/pulumi-engine/cli pins github.com/pulumi/pulumi/pkg/v3 (cmd/pulumi) to VERSION.
#      The Node.js language host's own module is not served there; it is built from the last
#      github.com/pulumi/pulumi/sdk/v3 release that carried it (tools/pulumi-engine/language-host).
# A second run costs nothing. Progress and the build time go to stderr.
set -euo pipefail

usage() {
  echo "usage: pulumi-engine.sh [--no-download]   (prints the engine's bin directory)" >&2
}

# The CLI must be at least the Node SDK's version (package.json devDependencies @pulumi/pulumi).
readonly VERSION=3.248.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
download=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-download) download=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage; exit 2 ;;
  esac
done

home="${NMTB_PULUMI_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/netmap-testbed/pulumi/v$VERSION}"
bin="$home/bin"
log() { echo "pulumi-engine: $*" >&2; }

complete() {
  [[ -x $bin/pulumi && -x $bin/pulumi-language-nodejs && -x $bin/pulumi-resource-pulumi-nodejs ]] &&
    [[ "$("$bin/pulumi" version 2>/dev/null)" == "v$VERSION" ]]
}

if complete; then
  echo "$bin"
  exit 0
fi

mkdir -p "$home"
chmod 0700 "$home"
exec 9>"$home/.lock"
flock 9
if complete; then # another run finished it while we waited
  echo "$bin"
  exit 0
fi
staging="$(mktemp -d "$home/.staging.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
started=$SECONDS

fetch_release() {
  local url="https://get.pulumi.com/releases/sdk/pulumi-v$VERSION-linux-x64.tar.gz"
  [[ $(uname -m) == x86_64 ]] || url="${url/-x64/-arm64}"
  log "downloading $url"
  curl -fsSL --connect-timeout 10 --max-time 300 "$url" -o "$staging/release.tgz" 2>/dev/null || return 1
  tar -xzf "$staging/release.tgz" -C "$staging" || return 1
  mkdir -p "$staging/bin"
  cp "$staging/pulumi/pulumi" "$staging/pulumi/pulumi-language-nodejs" "$staging/bin/"
}

build_from_modules() {
  command -v go >/dev/null || {
    log "error: no Go toolchain; install Go >= 1.22 (or give this machine internet access for the release download)"
    return 1
  }
  log "building the Pulumi CLI v$VERSION and the Node.js language host from the Go module proxy"
  log "(cold: about 5 minutes on 2 cores; the Go build cache makes later builds faster)"
  mkdir -p "$staging/bin"
  (cd "$here/pulumi-engine/cli" &&
    go build -mod=mod -trimpath \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION" \
      -o "$staging/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) >&2
  (cd "$here/pulumi-engine/language-host" &&
    go build -mod=mod -trimpath -o "$staging/bin/pulumi-language-nodejs" \
      github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs) >&2
}

if ((download)) && fetch_release; then
  log "using the official release"
else
  ((download)) && log "official release unreachable: building instead"
  build_from_modules
fi

# The dynamic-provider host ships with the Node SDK; the engine starts this launcher from the
# program's directory, so @pulumi/pulumi is the program's own copy (hoisted or not).
cat >"$staging/bin/pulumi-resource-pulumi-nodejs" <<'LAUNCHER'
#!/bin/sh
exec node -e 'require(require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [process.cwd()] }))' pulumi-resource-pulumi-nodejs "$@"
LAUNCHER
chmod 0755 "$staging/bin/"*
rm -rf "$bin"
mv "$staging/bin" "$bin"
"$bin/pulumi" version >/dev/null
log "ready in $((SECONDS - started)) s: $bin ($("$bin/pulumi" version))"
echo "$bin"

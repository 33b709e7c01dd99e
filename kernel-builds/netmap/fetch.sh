#!/usr/bin/env bash
# Puts the netmap source tree into the host's cache and names its exact version: a git URL at a
# ref (the resolved commit), or a local directory or tarball for air-gapped labs (a content hash).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: fetch.sh --git URL --ref REF
       fetch.sh --path DIR|TARBALL

  --git URL    repository to clone (https://, http://, git://, ssh://, file://)
  --ref REF    branch, tag or commit to check out (detached)
  --path P     a source directory (copied into the cache) or a tarball
               (.tar, .tar.gz, .tgz, .tar.xz, .tar.bz2, .zip; unpacked into the cache)

environment: NMTB_CACHE_DIR (default /var/cache/netmap-testbed)
stdout: {"sourceDir","commit","kind":"git"|"dir"|"tarball","upstreamCommit","fetched":bool}
  commit is the resolved git commit, or "sha256:<hex>" of the tarball / of the directory's
  file manifest (paths, modes, contents): what builds are keyed by. upstreamCommit is the git
  commit the source is, when known (git sources; a `git archive` tarball, whose pax header
  carries it; a checkout without changes to tracked files), else null.
USAGE
}

git_url=""
ref=""
src_path=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --git) git_url="$(nmtb_flag_value "$@")"; shift 2 ;;
    --ref) ref="$(nmtb_flag_value "$@")"; shift 2 ;;
    --path) src_path="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
if [[ -n $git_url ]]; then
  [[ -z $src_path ]] || nmtb_usage_error "give either --git/--ref or --path, not both"
  nmtb_require_git_url "$git_url"
  [[ -n $ref ]] || nmtb_usage_error "--git needs --ref"
  nmtb_require_git_ref "$ref"
elif [[ -n $src_path ]]; then
  [[ -z $ref ]] || nmtb_usage_error "--ref goes with --git"
  nmtb_require_path "$src_path" --path
  [[ -e $src_path ]] || nmtb_die "$src_path does not exist"
else
  nmtb_usage_error "give --git URL --ref REF or --path P"
fi

mkdir -p "$NMTB_CACHE_DIR/src"
fetched=0

emit() { # emit SOURCE_DIR COMMIT KIND [UPSTREAM_COMMIT]
  local json
  json="$(printf '{"sourceDir":%s,"commit":%s,"kind":%s,"upstreamCommit":%s,"fetched":%s}' "$(nmtb_json_str "$1")" \
    "$(nmtb_json_str "$2")" "$(nmtb_json_str "$3")" \
    "$([[ ${4:-} =~ ^[0-9a-f]{40}$ ]] && nmtb_json_str "$4" || echo null)" "$(nmtb_json_bool "$fetched")")"
  # What the host's netmap is, for the playbooks' provenance manifest (it reads this directory).
  mkdir -p "$NMTB_STATE_DIR/netmap"
  printf '%s\n' "$json" >"$NMTB_STATE_DIR/netmap/source.json"
  printf '%s\n' "$json"
}

# The git commit a tarball was made from, as `git archive` (and the controller's packing of a
# clean checkout) records it in a pax global header; nothing for other tarballs or without git.
tar_commit() {
  local reader=(cat)
  case "$1" in
    *.tar.gz | *.tgz) reader=(gzip -dc) ;;
    *.tar.xz | *.txz) reader=(xz -dc) ;;
    *.tar.bz2 | *.tbz2) reader=(bzip2 -dc) ;;
    *.zip) return 0 ;;
  esac
  command -v git >/dev/null 2>&1 || return 0
  # get-tar-commit-id reads the first headers only: the reader's broken pipe is expected.
  "${reader[@]}" <"$1" 2>/dev/null | git get-tar-commit-id 2>/dev/null || true
}

# HEAD of a git checkout whose tracked files are unchanged; nothing otherwise.
dir_commit() {
  command -v git >/dev/null 2>&1 || return 0
  [[ -e $1/.git ]] || return 0
  [[ -z $(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null || echo dirty) ]] || return 0
  git -C "$1" rev-parse -q --verify 'HEAD^{commit}' 2>/dev/null || true
}

# sha256 over the sorted (path, mode, link target) list and every regular file's content.
dir_manifest_hash() {
  (
    cd "$1"
    find . -path ./.git -prune -o \( -type f -o -type l \) -printf '%p\t%m\t%l\n' | LC_ALL=C sort
    find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  ) | sha256sum | cut -d' ' -f1
}

if [[ -n $git_url ]]; then
  command -v git >/dev/null 2>&1 || nmtb_die "git is not installed (run prepare.sh)"
  dest="$NMTB_CACHE_DIR/src/git-$(nmtb_sha256 "$git_url" | cut -c1-16)"
  if [[ ! -d "$dest/.git" ]]; then
    nmtb_log "new clone of $git_url in $dest"
    rm -rf "$dest"
    git init -q "$dest"
    git -C "$dest" remote add origin "$git_url"
  fi
  head="$(git -C "$dest" rev-parse -q --verify 'HEAD^{commit}' 2>/dev/null || true)"
  if [[ $ref =~ ^[0-9a-f]{40}$ && $head == "$ref" ]]; then
    nmtb_log "already at $ref: no fetch"
  else
    nmtb_log "fetching $ref from $git_url"
    if git -C "$dest" fetch -q --force --tags origin "$ref" >&2; then
      target="FETCH_HEAD"
    else
      # Servers that refuse to serve a bare commit: fetch everything, then look the ref up.
      git -C "$dest" fetch -q --force --tags origin '+refs/heads/*:refs/remotes/origin/*' >&2 ||
        nmtb_die "git fetch from $git_url failed"
      target="$ref"
    fi
    git -C "$dest" -c advice.detachedHead=false checkout -q --force --detach "$target" >&2 ||
      nmtb_die "cannot check out $ref"
    fetched=1
  fi
  # configure refuses a source tree with leftovers of an in-tree build: keep it pristine.
  git -C "$dest" clean -q -fdx >&2
  commit="$(git -C "$dest" rev-parse HEAD)"
  nmtb_log "$git_url $ref -> $commit"
  emit "$dest" "$commit" git "$commit"
  exit 0
fi

if [[ -d $src_path ]]; then
  hash="$(dir_manifest_hash "$src_path")"
  dest="$NMTB_CACHE_DIR/src/dir-${hash:0:16}"
  if [[ ! -e "$dest/.nmtb-fetched" ]]; then
    nmtb_log "copying $src_path into $dest"
    rm -rf "$dest" "$dest.tmp"
    mkdir -p "$dest.tmp"
    tar -C "$src_path" --exclude=./.git -cf - . | tar -C "$dest.tmp" -xf -
    touch "$dest.tmp/.nmtb-fetched"
    mv "$dest.tmp" "$dest"
    fetched=1
  else
    nmtb_log "$src_path already in $dest"
  fi
  emit "$dest" "sha256:$hash" dir "$(dir_commit "$src_path")"
  exit 0
fi

case "$src_path" in
  *.tar | *.tar.gz | *.tgz | *.tar.xz | *.txz | *.tar.bz2 | *.tbz2 | *.zip) ;;
  *) nmtb_die "$src_path: not a directory nor a known archive (.tar, .tar.gz, .tgz, .tar.xz, .tar.bz2, .zip)" ;;
esac
hash="$(nmtb_sha256_file "$src_path")"
dest="$NMTB_CACHE_DIR/src/tar-${hash:0:16}"
if [[ ! -e "$dest/.nmtb-fetched" ]]; then
  nmtb_log "unpacking $src_path into $dest"
  rm -rf "$dest" "$dest.tmp"
  mkdir -p "$dest.tmp/x"
  if [[ $src_path == *.zip ]]; then
    unzip -q "$src_path" -d "$dest.tmp/x" || nmtb_die "cannot unpack $src_path"
  else
    tar -xf "$src_path" -C "$dest.tmp/x" || nmtb_die "cannot unpack $src_path"
  fi
  # A single top-level directory (netmap-master/) is the tree itself.
  mapfile -t top < <(find "$dest.tmp/x" -mindepth 1 -maxdepth 1)
  if [[ ${#top[@]} -eq 1 && -d ${top[0]} ]]; then
    mv "${top[0]}" "$dest.tmp/tree"
  else
    mv "$dest.tmp/x" "$dest.tmp/tree"
  fi
  touch "$dest.tmp/tree/.nmtb-fetched"
  mv "$dest.tmp/tree" "$dest"
  rm -rf "$dest.tmp"
  fetched=1
else
  nmtb_log "$src_path already in $dest"
fi
emit "$dest" "sha256:$hash" tarball "$(tar_commit "$src_path")"

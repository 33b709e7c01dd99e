#!/usr/bin/env bash
# Builds and installs the ptnet-capable QEMU (default fork: netmap-unipi/qemu) into a prefix
# keyed by the build configuration, verifies it offers ptnet-pci and the netmap netdev, and
# stamps it. Same key again = no work. `remove` (or --remove) deletes the prefix. `import`
# installs a prefix built elsewhere instead of compiling (`export`'s archive: from another host,
# or from kernel-builds/lab/native-build.sh, in the lab image's own root on the controller):
# digest, stamp, prefix and binary are checked. `check`, `export` and `import --archive -` are
# the controller's build sharing commands (has it / the archive on stdout / the archive on stdin).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/vm.sh
. "$here/../lib/vm.sh"

usage() {
  cat <<'EOF'
usage: build.sh [apply] (--git URL --ref REF | --path DIR|TARBALL) --config-key KEY
                --netmap-source DIR [--prefix DIR] [--install-deps 1|0] [--jobs N]
                [--configure-arg ARG]...
       build.sh remove --config-key KEY [--prefix DIR]      (also: build.sh --remove ...)
       build.sh status --config-key KEY [--prefix DIR]
       build.sh check  --config-key KEY [--prefix DIR]
       build.sh export --config-key KEY [--prefix DIR] > qemu-KEY.tgz
       build.sh import --archive FILE|- [--sha256 HEX] --config-key KEY [--prefix DIR]
                [--install-deps 1|0]

  --git URL --ref REF  clone/fetch the fork and check out REF (branch, tag or commit); the
                       ui/keycodemapdb submodule is fetched too
  --path P             a prepared source tree or tarball (air-gapped labs); it must contain
                       ui/keycodemapdb already unless it is a git checkout that can fetch it
  --config-key KEY     build key (hash of the settings that change the output)
  --netmap-source DIR  netmap source tree; its sys/ holds net/netmap*.h for --enable-netmap
  --prefix DIR         install prefix (default $NMTB_OPT_DIR/qemu/KEY)
  --install-deps 1|0   apt-get install the build dependencies (default 1)
  --jobs N             parallel make jobs (default: nproc)
  --configure-arg ARG  extra configure argument (repeatable), after the defaults
  --archive FILE|-     (import) export's archive (native-build.sh's qemu-KEY.tgz is one): the
                       installed prefix, its stamp, and the prefix and runtime packages it was
                       built for; "-" reads it from stdin (into a private temp file)
  --sha256 HEX         (import) the archive's expected sha256, else NMTB_ARCHIVE_SHA256 (one of
                       them is required): a mismatch changes nothing
  --install-deps 1|0   (import) apt-get install the archive's missing runtime packages
                       (default 1)

configure gets: --prefix=P --target-list=x86_64-softmmu --enable-kvm --enable-vhost-net
  --enable-netmap --disable-werror --extra-cflags=-I<netmap>/sys --disable-docs
  --disable-capstone --python=python3, then the --configure-arg values.
check: exit 0 with apply's no-work JSON ("changed":false) when the prefix holds a build stamped
  with KEY and its binary; else the reason on stderr and exit 3. Changes nothing.
export: the prefix (stamp included) and .netmap-testbed-archive (format, configKey, prefix and
  runtimePackages: the Debian packages owning the libraries bin/* and libexec/* link against,
  by ldd + dpkg -S) as a gzip'd tar on stdout; refuses a prefix without KEY's stamp and a
  terminal stdout. QEMU has its install paths compiled in: import with the same --prefix.
Environment: NMTB_STATE_DIR (work trees, logs), NMTB_OPT_DIR (prefixes), NMTB_ARCHIVE_SHA256
  (import, when --sha256 is not given).
stdout: one JSON object {"action","configKey","prefix","binary","commit","changed",...} (export:
  the archive); import adds "imported" (false when this key was already installed: no work).
EOF
}

action=apply
case "${1:-}" in
  apply | remove | status | check | export | import)
    action="$1"
    shift
    ;;
esac

git_url="" ref="" src_path="" key="" netmap_src="" prefix="" install_deps=1 jobs=""
archive="" archive_sha=""
configure_extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --git) git_url="$(nmtb_flag_value "$@")" && shift 2 ;;
    --ref) ref="$(nmtb_flag_value "$@")" && shift 2 ;;
    --path) src_path="$(nmtb_flag_value "$@")" && shift 2 ;;
    --config-key) key="$(nmtb_flag_value "$@")" && shift 2 ;;
    --netmap-source) netmap_src="$(nmtb_flag_value "$@")" && shift 2 ;;
    --prefix) prefix="$(nmtb_flag_value "$@")" && shift 2 ;;
    --install-deps) install_deps="$(nmtb_flag_value "$@")" && shift 2 ;;
    --jobs) jobs="$(nmtb_flag_value "$@")" && shift 2 ;;
    --configure-arg) configure_extra+=("$(nmtb_flag_value "$@")") && shift 2 ;;
    --archive) archive="$(nmtb_flag_value "$@")" && shift 2 ;;
    --sha256) archive_sha="$(nmtb_flag_value "$@")" && shift 2 ;;
    --remove)
      action=remove
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) nmtb_usage_error "unknown argument '$1'" ;;
  esac
done

[[ -n $key ]] || nmtb_usage_error "--config-key is required"
[[ $action == import || (-z $archive && -z $archive_sha) ]] || nmtb_usage_error "--archive and --sha256 go with import"
sha_source=--sha256
if [[ $action == import && -z $archive_sha ]]; then
  archive_sha="${NMTB_ARCHIVE_SHA256:-}"
  sha_source=NMTB_ARCHIVE_SHA256
fi
nmtb_require_name "$key" "--config-key"
prefix="${prefix:-$NMTB_OPT_DIR/qemu/$key}"
nmtb_require_path "$prefix" "--prefix"
[[ $prefix != / && $prefix != "$NMTB_OPT_DIR" && $prefix != "$NMTB_OPT_DIR/qemu" ]] ||
  nmtb_usage_error "refusing prefix '$prefix': it must be a directory of its own"
binary="$prefix/bin/qemu-system-x86_64"
stamp="$prefix/.netmap-testbed-stamp"
work="$NMTB_STATE_DIR/qemu/$key"

# A prefix this script may delete: ours (stamped), empty, or under $NMTB_OPT_DIR/qemu/.
prefix_is_ours() {
  [[ ! -e $prefix || -f $stamp || $prefix == "$NMTB_OPT_DIR/qemu/"* || -z $(ls -A "$prefix" 2>/dev/null) ]]
}

# Stamp file: line 1 key, line 2 commit (or "-"), line 3 source description.
stamp_field() { sed -n "${1}p" "$stamp" 2>/dev/null || true; }

# The prefix holds a finished build of this key (apply's, or an import's).
have_build() { [[ $(stamp_field 1) == "$key" && -x $binary ]]; }

# Why have_build is false, in one line.
absent_reason() {
  if [[ ! -e $prefix ]]; then
    printf 'no QEMU build in %s' "$prefix"
  elif [[ ! -f $stamp ]]; then
    printf '%s has no stamp (no finished build of this script)' "$prefix"
  elif [[ $(stamp_field 1) != "$key" ]]; then
    printf '%s holds QEMU %s, not %s' "$prefix" "$(stamp_field 1)" "$key"
  else
    printf '%s is missing or not executable' "$binary"
  fi
}

# The Debian packages owning the shared libraries the prefix's programs link against, one a
# line (the lab image has no glib, pixman or libfdt): import installs the missing ones. Nothing
# for programs that link against nothing, or without ldd or dpkg.
runtime_packages() {
  local f lib
  local -a libs=()
  command -v ldd >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || return 0
  mapfile -t libs < <(
    for f in "$prefix"/bin/* "$prefix"/libexec/*; do
      [[ -f $f && -x $f ]] || continue
      ldd "$f" 2>/dev/null | awk '/=> \//{print $3}' || true
    done | sort -u
  )
  # "pkg:arch, pkg2:arch: /path" -> pkg, pkg2 (a library reached through a symlink is owned by
  # its target's package).
  for lib in "${libs[@]}"; do
    dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true
  done | grep -v '^diversion by ' | sed 's/: .*//; s/, /\n/g' | sed 's/:.*//' | sort -u || true
}

# The ptnet device and the netmap netdev must be there, whoever built the binary.
verify_binary() {
  local bin="$1" devices netdevs
  devices="$("$bin" -device help 2>&1 || true)"
  if ! grep -q '"ptnet-pci"' <<<"$devices"; then
    nmtb_die "$bin -device help does not list ptnet-pci (not the ptnet fork, or netmap support not built); it printed: $(head -c 2000 <<<"$devices")"
  fi
  netdevs="$("$bin" -netdev help 2>&1 || true)"
  if ! grep -qx 'netmap' <<<"$netdevs"; then
    nmtb_die "$bin -netdev help does not list netmap (configure did not enable netmap: check --netmap-source); it printed: $(head -c 2000 <<<"$netdevs")"
  fi
}

emit() {
  local changed="$1" commit="$2" source="$3" extra="${4:-}"
  printf '{"action":%s,"configKey":%s,"prefix":%s,"binary":%s,"commit":%s,"source":%s,"changed":%s,"built":%s%s}\n' \
    "$(nmtb_json_str "$action")" "$(nmtb_json_str "$key")" "$(nmtb_json_str "$prefix")" \
    "$(nmtb_json_str "$binary")" "$([[ -n $commit && $commit != - ]] && nmtb_json_str "$commit" || echo null)" \
    "$([[ -n $source ]] && nmtb_json_str "$source" || echo null)" "$(nmtb_json_bool "$changed")" \
    "$(nmtb_json_bool "$([[ -f $stamp && -x $binary ]] && echo 1 || echo 0)")" "${extra:+,$extra}"
}

case "$action" in
  check)
    # The controller's "has it?" (build sharing): apply's result when apply would do nothing.
    if ! have_build; then
      nmtb_log "$(absent_reason)"
      exit 3
    fi
    action=apply
    emit false "$(stamp_field 2)" "$(stamp_field 3)"
    exit 0
    ;;
  export)
    [[ ! -t 1 ]] || nmtb_die "stdout is a terminal: redirect the archive to a file"
    # No apply, import or other export replaces the prefix while it is read.
    nmtb_lock
    have_build || nmtb_die "$(absent_reason): nothing exported"
    mapfile -t packages < <(runtime_packages)
    for p in "${packages[@]}"; do
      [[ $p =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || nmtb_die "dpkg -S named '$p' for a library of $prefix: not a Debian package name"
    done
    meta="$(mktemp -d)"
    trap 'rm -rf -- "$meta"' EXIT
    {
      printf 'format netmap-testbed/qemu-archive/v1\n'
      printf 'configKey %s\n' "$key"
      printf 'prefix %s\n' "$prefix"
      printf 'runtimePackages %s\n' "${packages[*]}"
    } >"$meta/.netmap-testbed-archive"
    nmtb_log "exporting $prefix ($(du -sh "$prefix" | cut -f1) unpacked; runtime packages: ${packages[*]:-none})"
    # An imported prefix's own records stay behind: the archive's metadata is this export's.
    tar --numeric-owner --anchored --exclude=./.netmap-testbed-archive --exclude=./.netmap-testbed-imported \
      -cf - -C "$prefix" . -C "$meta" .netmap-testbed-archive | gzip -1
    exit 0
    ;;
  status)
    # "present" (read by refresh): the prefix holds a build stamped with this key.
    present=0
    have_build && present=1
    emit false "$(stamp_field 2)" "$(stamp_field 3)" "\"present\":$(nmtb_json_bool "$present")"
    exit 0
    ;;
  remove)
    changed=0
    if [[ -e $prefix ]]; then
      prefix_is_ours || nmtb_die "$prefix was not installed by this script (no stamp): not removing it"
      nmtb_log "removing $prefix"
      rm -rf -- "$prefix"
      changed=1
    fi
    rm -rf -- "$work"
    emit "$changed" "" ""
    exit 0
    ;;
esac

# ---------------------------------------------------------------- import
if [[ $action == import ]]; then
  [[ -n $archive ]] || nmtb_usage_error "import needs --archive FILE (or - for stdin)"
  [[ $archive == - ]] || nmtb_require_path "$archive" "--archive"
  [[ -n $archive_sha ]] || nmtb_usage_error "import needs the archive's sha256: --sha256 HEX or NMTB_ARCHIVE_SHA256"
  nmtb_require_match "$sha_source" "$archive_sha" '^[0-9a-f]{64}$' "the archive's sha256 (64 lower-case hex digits)"
  nmtb_require_bool01 "$install_deps" "--install-deps"
  stdin_copy=""
  if [[ $archive == - ]]; then
    [[ ! -t 0 ]] || nmtb_usage_error "--archive -: the archive goes on stdin"
    archive_name="the archive on stdin" archive_record="(stdin)"
    # A private copy (mktemp: mode 0600), checked and read like a file, gone on exit.
    stdin_copy="$(mktemp -t nmtb-qemu-import.XXXXXX)" || nmtb_die "cannot make a temp file for the archive (TMPDIR ${TMPDIR:-/tmp})"
    trap 'rm -f -- "$stdin_copy"' EXIT
    cat >"$stdin_copy" || nmtb_die "cannot store the archive from stdin in $stdin_copy"
    archive="$stdin_copy"
  else
    [[ -f $archive ]] || nmtb_die "--archive $archive does not exist"
    archive_name="$archive" archive_record="$archive"
  fi
  # First, whatever is installed: a damaged or substituted archive is an error, never a no-op.
  actual_sha="$(nmtb_sha256_file "$archive")"
  [[ $actual_sha == "$archive_sha" ]] ||
    nmtb_die "$archive_name has sha256 $actual_sha, expected $archive_sha (damaged or not the archive meant): nothing changed"
  if have_build; then
    nmtb_log "QEMU $key already installed in $prefix: nothing to import"
    emit false "$(stamp_field 2)" "$(stamp_field 3)" '"imported":false'
    exit 0
  fi
  # What the archive was built for, read before anything on the host changes.
  meta="$(tar -xzOf "$archive" .netmap-testbed-archive 2>/dev/null | head -c 65536 || true)"
  [[ -n $meta ]] || nmtb_die "$archive_name has no .netmap-testbed-archive (not build.sh export's archive)"
  meta_field() { sed -n "s/^$1 //p" <<<"$meta" | head -n 1; }
  [[ $(meta_field format) == netmap-testbed/qemu-archive/v1 ]] || nmtb_die "$archive_name: unknown archive format '$(meta_field format)'"
  [[ $(meta_field configKey) == "$key" ]] || nmtb_die "$archive_name holds QEMU $(meta_field configKey), not $key"
  built_prefix="$(meta_field prefix)"
  [[ $built_prefix == "$prefix" ]] ||
    nmtb_die "$archive_name was built for prefix $built_prefix, not $prefix: QEMU has its install paths compiled in; import with --prefix $built_prefix"
  nmtb_lock
  prefix_is_ours || nmtb_die "$prefix exists and was not installed by this script (no stamp): choose another --prefix"
  parent="$(dirname "$prefix")"
  # Directories made for the prefix go again if the import fails.
  made_parent=""
  if [[ ! -d $parent ]]; then
    made_parent="$parent"
    while [[ ! -d $(dirname "$made_parent") ]]; do made_parent="$(dirname "$made_parent")"; done
    mkdir -p "$parent"
  fi
  # Unpacked beside the prefix (same filesystem), checked there, then renamed into place: a
  # failed import leaves the prefix as it was.
  staging="$(mktemp -d "$parent/.import-qemu-$key.XXXXXX")"
  old="" imported=0
  # shellcheck disable=SC2317 # run by the EXIT trap
  import_cleanup() {
    rm -rf -- "$staging" "$staging.log" ${old:+"$old"} ${stdin_copy:+"$stdin_copy"}
    if ((!imported)) && [[ -n $made_parent ]]; then
      local d="$parent"
      while [[ ${#d} -ge ${#made_parent} ]] && rmdir -- "$d" 2>/dev/null; do d="$(dirname "$d")"; done
    fi
  }
  trap import_cleanup EXIT
  tar -xzf "$archive" -C "$staging" --no-same-owner >"$staging.log" 2>&1 || {
    msg="$(tail -n 5 "$staging.log")"
    nmtb_die "cannot unpack $archive_name: $msg"
  }
  rm -f -- "$staging.log"
  [[ $(sed -n 1p "$staging/.netmap-testbed-stamp" 2>/dev/null) == "$key" ]] ||
    nmtb_die "$archive_name has no stamp for $key (an incomplete or foreign build)"
  staged_binary="$staging/bin/qemu-system-x86_64"
  [[ -f $staged_binary && -x $staged_binary && ! -L $staged_binary ]] || nmtb_die "$archive_name has no bin/qemu-system-x86_64"

  # -- the shared libraries the binary links against (the lab image has no glib, pixman, fdt)
  read -r -a runtime <<<"$(meta_field runtimePackages)"
  missing=()
  for p in "${runtime[@]}"; do
    nmtb_require_match "runtime package" "$p" '^[a-z0-9][a-z0-9+.-]+$' 'a Debian package name'
    if command -v dpkg-query >/dev/null 2>&1 &&
      [[ $(dpkg-query -W -f '${Status}' "$p" 2>/dev/null || true) != "install ok installed" ]]; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    ((install_deps)) || nmtb_die "runtime packages missing: ${missing[*]} (install them, or pass --install-deps 1)"
    command -v apt-get >/dev/null 2>&1 || nmtb_die "apt-get not found: install ${missing[*]} by hand"
    mkdir -p "$work"
    nmtb_log "installing runtime packages: ${missing[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$work/runtime-deps.log" 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$work/runtime-deps.log" 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$work/runtime-deps.log" 2>&1 ||
        nmtb_die "installing runtime packages failed: $(tail -n 10 "$work/runtime-deps.log")"
    fi
  fi

  verify_binary "$staged_binary"
  printf 'sha256 %s\narchive %s\n' "$archive_sha" "$archive_record" >"$staging/.netmap-testbed-imported"
  if [[ -e $prefix ]]; then
    # Another key's build (ours, checked above) gives way, as apply replaces it.
    old="$parent/.old-qemu-$key.$$"
    mv -- "$prefix" "$old"
    if ! mv -- "$staging" "$prefix"; then
      mv -- "$old" "$prefix"
      old=""
      nmtb_die "cannot rename the imported build into $prefix: the previous one is back"
    fi
    rm -rf -- "$old"
  else
    mv -- "$staging" "$prefix"
  fi
  imported=1
  nmtb_log "QEMU $key imported into $prefix (from $archive_name)"
  emit true "$(stamp_field 2)" "$(stamp_field 3)" '"imported":true'
  exit 0
fi

# ---------------------------------------------------------------- apply
if [[ -n $git_url ]]; then
  [[ -z $src_path ]] || nmtb_usage_error "give either --git/--ref or --path, not both"
  [[ -n $ref ]] || nmtb_usage_error "--git needs --ref"
  nmtb_require_git_url "$git_url" --git
  nmtb_require_git_ref "$ref" --ref
elif [[ -n $src_path ]]; then
  nmtb_require_path "$src_path" "--path"
  [[ -e $src_path ]] || nmtb_die "--path $src_path does not exist"
else
  nmtb_usage_error "give --git URL --ref REF or --path DIR"
fi
[[ -n $netmap_src ]] || nmtb_usage_error "--netmap-source is required"
nmtb_require_path "$netmap_src" "--netmap-source"
[[ -f $netmap_src/sys/net/netmap.h && -f $netmap_src/sys/net/netmap_user.h ]] ||
  nmtb_die "$netmap_src/sys/net/netmap.h and netmap_user.h not found: --netmap-source must be a netmap source tree"
nmtb_require_bool01 "$install_deps" "--install-deps"
jobs="${jobs:-$(nproc 2>/dev/null || echo 2)}"
nmtb_require_uint "$jobs" "--jobs"
for a in "${configure_extra[@]}"; do
  nmtb_require_match "--configure-arg" "$a" '^--[A-Za-z0-9][A-Za-z0-9_-]*(=[A-Za-z0-9._,:/=+@%-]*)?$' \
    'a configure option like --enable-foo or --opt=value'
done

if have_build; then
  nmtb_log "QEMU $key already built in $prefix"
  emit false "$(stamp_field 2)" "$(stamp_field 3)"
  exit 0
fi

nmtb_lock
mkdir -p "$work"
log_tail() { tail -n "${2:-30}" "$1" 2>/dev/null || true; }

# -- dependencies
if ((install_deps)); then
  deps=(build-essential pkg-config python3 libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev)
  [[ -z $git_url ]] || deps+=(git ca-certificates)
  command -v apt-get >/dev/null 2>&1 ||
    nmtb_die "apt-get not found: install ${deps[*]} by hand and pass --install-deps 0"
  nmtb_log "installing build dependencies: ${deps[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${deps[@]}" >"$work/deps.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$work/deps.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${deps[@]}" >>"$work/deps.log" 2>&1 ||
      nmtb_die "installing build dependencies failed: $(log_tail "$work/deps.log" 10)"
  fi
fi

# -- source
commit="-"
if [[ -n $git_url ]]; then
  command -v git >/dev/null 2>&1 || nmtb_die "git not found (pass --install-deps 1 or install git)"
  src="$work/src"
  if [[ -d $src/.git && $(git -C "$src" remote get-url origin 2>/dev/null || true) == "$git_url" ]]; then
    nmtb_log "fetching $ref from $git_url"
  else
    rm -rf -- "$src"
    nmtb_log "cloning $git_url"
    git clone --quiet --no-checkout -- "$git_url" "$src" >"$work/git.log" 2>&1 ||
      nmtb_die "git clone $git_url failed: $(log_tail "$work/git.log" 10)"
  fi
  if ! git -C "$src" fetch --quiet origin -- "$ref" >>"$work/git.log" 2>&1; then
    # A commit id some servers will not serve directly: fetch everything, then resolve it.
    git -C "$src" fetch --quiet --tags origin >>"$work/git.log" 2>&1 ||
      nmtb_die "git fetch from $git_url failed: $(log_tail "$work/git.log" 10)"
    git -C "$src" rev-parse --verify --quiet "$ref^{commit}" >/dev/null ||
      nmtb_die "ref $ref not found in $git_url"
    git -C "$src" checkout --quiet --force --detach "$ref" >>"$work/git.log" 2>&1
  else
    git -C "$src" checkout --quiet --force --detach FETCH_HEAD >>"$work/git.log" 2>&1 ||
      nmtb_die "git checkout $ref failed: $(log_tail "$work/git.log" 10)"
  fi
  commit="$(git -C "$src" rev-parse HEAD)"
  source_desc="$git_url#$ref"
elif [[ -f $src_path ]]; then
  src="$work/src"
  rm -rf -- "$src"
  mkdir -p "$src"
  nmtb_log "unpacking $src_path"
  tar -xf "$src_path" -C "$src" >"$work/tar.log" 2>&1 || nmtb_die "unpacking $src_path failed: $(log_tail "$work/tar.log" 5)"
  # A tarball usually holds one top directory.
  mapfile -t top < <(find "$src" -mindepth 1 -maxdepth 1)
  if [[ ${#top[@]} -eq 1 && -d ${top[0]} ]]; then src="${top[0]}"; fi
  source_desc="$src_path (sha256 $(nmtb_sha256_file "$src_path"))"
else
  src="$src_path"
  source_desc="$src_path"
  if git -C "$src" rev-parse --verify --quiet HEAD >/dev/null 2>&1; then commit="$(git -C "$src" rev-parse HEAD)"; fi
fi
[[ -x $src/configure ]] || nmtb_die "$src has no executable configure: not a QEMU source tree"

# ui/keycodemapdb: a git submodule that QEMU 3.x's build needs.
if [[ -f $src/.gitmodules ]] && grep -q 'ui/keycodemapdb' "$src/.gitmodules"; then
  if [[ -z $(ls -A "$src/ui/keycodemapdb" 2>/dev/null) ]]; then
    if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
      nmtb_log "fetching submodule ui/keycodemapdb"
      # netmap-unipi/qemu's .gitmodules names git.qemu.org, which QEMU has since retired in favour
      # of gitlab.com/qemu-project: the superproject pins the submodule's commit, so the mirror
      # gives the same tree.
      if ! git -C "$src" submodule update --init ui/keycodemapdb >>"$work/git.log" 2>&1; then
        nmtb_log "the recorded URL failed; trying QEMU's current home for keycodemapdb"
        git -C "$src" -c submodule.ui/keycodemapdb.url=https://gitlab.com/qemu-project/keycodemapdb.git \
          submodule update --init ui/keycodemapdb >>"$work/git.log" 2>&1 ||
          nmtb_die "git submodule update --init ui/keycodemapdb failed (also from gitlab.com/qemu-project): $(log_tail "$work/git.log" 10)"
      fi
    else
      nmtb_die "$src/ui/keycodemapdb is empty and $src is not a git checkout: prepare the tree with the submodule (git submodule update --init ui/keycodemapdb)"
    fi
  fi
fi

# -- configure, build, install (out of tree, so a prepared --path tree is not modified)
build="$work/build"
rm -rf -- "$build"
mkdir -p "$build"
configure_args=(
  "--prefix=$prefix"
  --target-list=x86_64-softmmu
  --enable-kvm
  --enable-vhost-net
  --enable-netmap
  --disable-werror
  "--extra-cflags=-I$netmap_src/sys"
  --disable-docs
  --disable-capstone
  --python=python3
  "${configure_extra[@]}"
)
nmtb_log "configure ${configure_args[*]}"
(cd "$build" && "$src/configure" "${configure_args[@]}") >"$work/configure.log" 2>&1 ||
  nmtb_die "configure failed (log $work/configure.log): $(log_tail "$work/configure.log" 20)"
nmtb_log "make -j$jobs (log $work/make.log)"
make -C "$build" -j"$jobs" >"$work/make.log" 2>&1 ||
  nmtb_die "make failed (log $work/make.log): $(log_tail "$work/make.log" 30)"
prefix_is_ours || nmtb_die "$prefix exists and was not installed by this script (no stamp): choose another --prefix"
rm -rf -- "$prefix"
nmtb_log "make install into $prefix"
make -C "$build" install >"$work/install.log" 2>&1 ||
  nmtb_die "make install failed (log $work/install.log): $(log_tail "$work/install.log" 20)"
[[ -x $binary ]] || nmtb_die "make install did not produce $binary"

verify_binary "$binary"

printf '%s\n%s\n%s\n' "$key" "$commit" "$source_desc" >"$stamp"
nmtb_log "QEMU $key installed in $prefix (commit ${commit})"
emit true "$commit" "$source_desc"

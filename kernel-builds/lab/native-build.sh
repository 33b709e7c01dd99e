#!/usr/bin/env bash
# Builds netmap, or the ptnet QEMU, for local-lab hosts natively on the controller instead of
# inside the TCG-emulated lab host (there netmap's configure alone takes ~45 min and QEMU's
# configure over 26 min; natively both builds take ~3 min together).
#
# The build runs in the lab image's own root filesystem (extracted from its disk, no loop mount),
# chrooted in private mount and pid namespaces: the same distribution, compiler, kernel headers
# and absolute paths as on the lab host. Inside, the project's own host scripts do the work
# (netmap/fetch.sh, netmap/build.sh, netmap/export.sh, qemu/build.sh apply and export), so the
# result is exactly what the lab host would have built, and it goes in through the lab host's
# existing import paths: netmap/import.sh (build.sh --adopt checks the stamp's fingerprint, paths
# included) and qemu/build.sh import (digest, stamp, prefix and binary checked).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
kernel_builds="$(dirname "$here")"

usage() {
  cat <<'USAGE'
usage: native-build.sh netmap --disk DISK --root-cache DIR --out DIR [--timeout S]
                              -- FETCH_ARGS... -- BUILD_ARGS...
       native-build.sh qemu   --disk DISK --root-cache DIR --out DIR [--timeout S]
                              -- QEMU_BUILD_ARGS...

  --disk DISK        the lab image's raw ext4 disk (build-image.sh's "disk"); read only
  --root-cache DIR   where extracted root filesystems are kept, one per disk content
                     (DIR/<hash of the disk>); reused by later runs, also the builds inside it
  --out DIR          where the archives go
  --timeout S        bound on each phase run in the image's root, in seconds (default 3600)

netmap: in the image's root runs netmap/fetch.sh FETCH_ARGS, then
  netmap/build.sh --source-dir <sourceDir> --commit <commit> BUILD_ARGS, then export.sh, and
  writes OUT/<buildKey>.tgz and OUT/<buildKey>.tgz.sha256. FETCH_ARGS and BUILD_ARGS are
  exactly what the lab host's own fetch and build steps get (without --source-dir/--commit), so
  the source dir, build key and stamp are the lab host's; BUILD_ARGS without --kernel-release
  get the image's kernel release. On the lab host: fetch.sh FETCH_ARGS (same source), then
  import.sh --source-dir <sourceDir> --commit <commit> BUILD_ARGS < OUT/<buildKey>.tgz.
qemu: in the image's root runs qemu/build.sh apply QEMU_BUILD_ARGS (its --install-deps 1, the
  default, apt-installs the build dependencies in the root), then qemu/build.sh export, which
  packs the installed prefix with the runtime packages the binaries link against, and writes
  OUT/qemu-<configKey>.tgz (+ .sha256). --netmap-source must be a netmap tree already in that
  root: run the netmap kind first and pass its "sourceDir". On the lab host: qemu/build.sh
  import --archive F --sha256 HEX --config-key KEY [--prefix P] (or --archive - with the archive
  on stdin and NMTB_ARCHIVE_SHA256=HEX), with the same prefix: QEMU has its install paths
  compiled in.

Sources on the controller (--path P, --git /abs or file:///abs in FETCH_ARGS/QEMU_BUILD_ARGS)
are bind-mounted read-only into the root at the same path. The project's kernel-builds/ is
copied fresh into the root (/opt/netmap-testbed/scripts/native) on every run.

Needs debugfs (e2fsprogs), unshare (util-linux), chroot, timeout, flock, and root or
unprivileged user namespaces (then everything runs as root of a user namespace). The root's
/etc/resolv.conf is the controller's: the root reaches the network (apt, git) like the controller.
Mounts exist only in the build's private mount namespace: nothing to unmount after a failure.
environment: NMTB_LOCK_WAIT_SECONDS (bound on waiting for another run on the same root, 3600)
stdout: one JSON object {"kind","archive","sha256","buildKey"|"configKey",...,"seconds":{...}}
USAGE
}

case "${1:-}" in
  netmap | qemu) kind="$1"; shift ;;
  -h | --help) usage; exit 0 ;;
  *) nmtb_usage_error "first argument: netmap or qemu" ;;
esac

disk="" root_cache="" out_dir="" phase_timeout=3600
while [[ $# -gt 0 && $1 != -- ]]; do
  case "$1" in
    --disk) disk="$(nmtb_flag_value "$@")"; shift 2 ;;
    --root-cache) root_cache="$(nmtb_flag_value "$@")"; shift 2 ;;
    --out) out_dir="$(nmtb_flag_value "$@")"; shift 2 ;;
    --timeout) phase_timeout="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
[[ ${1:-} == -- ]] || nmtb_usage_error "the script arguments follow '--'"
shift
fetch_args=() build_args=()
if [[ $kind == netmap ]]; then
  while [[ $# -gt 0 && $1 != -- ]]; do fetch_args+=("$1"); shift; done
  [[ ${1:-} == -- ]] || nmtb_usage_error "netmap needs -- FETCH_ARGS... -- BUILD_ARGS..."
  shift
fi
build_args=("$@")
if [[ $kind == netmap ]]; then
  ((${#fetch_args[@]})) || nmtb_usage_error "FETCH_ARGS are empty (e.g. --path /src/netmap.tgz)"
  for a in "${build_args[@]}"; do
    case "$a" in
      --source-dir | --commit) nmtb_usage_error "BUILD_ARGS: $a comes from fetch.sh's result" ;;
      --adopt | --check-only) nmtb_usage_error "BUILD_ARGS: $a is not a build" ;;
    esac
  done
else
  case "${build_args[0]:-}" in
    apply) build_args=("${build_args[@]:1}") ;;
    remove | status | check | export | import | --remove) nmtb_usage_error "QEMU_BUILD_ARGS: only apply's arguments" ;;
  esac
fi
((${#build_args[@]})) || nmtb_usage_error "the build arguments are empty"

for v in disk root_cache out_dir; do
  [[ -n ${!v} ]] || nmtb_usage_error "--${v//_/-} is required"
  printf -v "$v" '%s' "$(realpath -m -- "${!v}")"
  nmtb_require_path "${!v}" "--${v//_/-}"
done
nmtb_require_uint "$phase_timeout" --timeout
((phase_timeout >= 1)) || nmtb_usage_error "--timeout must be at least 1"
[[ -f $disk && -r $disk ]] || nmtb_die "--disk $disk is not a readable file"
# debugfs and chroot live in sbin, which an ordinary user's PATH often lacks.
PATH="$PATH:/usr/sbin:/sbin"
for c in debugfs unshare chroot timeout flock sha256sum tar gzip stat; do
  command -v "$c" >/dev/null 2>&1 || nmtb_die "'$c' is not installed (e2fsprogs, util-linux, coreutils, tar, gzip)"
done

userns=() tar_options=""
if [[ $(id -u) != 0 ]]; then
  # Root of a user namespace that maps only the caller: enough to mount and chroot in private
  # namespaces; files the caller extracted appear root-owned inside.
  if ! unshare --user --map-root-user --mount --pid --fork true 2>/dev/null; then
    nmtb_die "not root and this kernel does not let unprivileged users create user namespaces (kernel.unprivileged_userns_clone, user.max_user_namespaces, or AppArmor's restrict_unprivileged_userns): run as root"
  fi
  userns=(--user --map-root-user)
  # The controller's files owned by anyone but the caller show as the overflow uid, which root of
  # this namespace cannot chown to: tar (fetch.sh's copies) must not try.
  tar_options=--no-same-owner
fi

now_ms() { date +%s%3N; }
t_start="$(now_ms)"
declare -A took=()
seconds_json() {
  local first=1 k
  printf '{'
  for k in "$@"; do
    [[ -n ${took[$k]:-} ]] || continue
    ((first)) || printf ','
    first=0
    printf '"%s":%d.%03d' "$k" $((took[$k] / 1000)) $((took[$k] % 1000))
  done
  printf '}'
}

# ---------------------------------------------------------------- cleanup (also on failure)
created_mountpoints=() tmp_files=() tmp_dirs=() extract_tmp=""
cleanup() {
  local entry mp top
  for entry in "${created_mountpoints[@]}"; do
    # The mounts lived in the build's namespace, which is gone: only our empty placeholders remain.
    mp="${entry%%|*}" top="${entry#*|}"
    if [[ -f $mp && ! -s $mp && ! -L $mp ]]; then rm -f -- "$mp"; elif [[ -d $mp && ! -L $mp ]]; then rmdir -- "$mp" 2>/dev/null || true; fi
    mp="$(dirname "$mp")"
    while [[ ${#mp} -ge ${#top} && $mp == "$top"* ]]; do
      rmdir -- "$mp" 2>/dev/null || break
      mp="$(dirname "$mp")"
    done
  done
  [[ ${#tmp_files[@]} -eq 0 ]] || rm -f -- "${tmp_files[@]}"
  [[ ${#tmp_dirs[@]} -eq 0 ]] || rm -rf -- "${tmp_dirs[@]}"
  [[ -z $extract_tmp ]] || rm -rf -- "$extract_tmp"
}
trap cleanup EXIT

# ---------------------------------------------------------------- sources on the controller
# Paths in the script arguments that name the controller's files: bind them at the same path.
# Checked before the (slow) first extraction.
bind_sources=()
add_bind_source() {
  local p="$1" flag="$2"
  nmtb_require_path "$p" "$flag"
  [[ -e $p ]] || nmtb_die "$flag $p does not exist on the controller"
  [[ $p != / && $p != "$root_cache" && $p != "$root_cache/"* && $root_cache != "$p/"* ]] ||
    nmtb_die "$flag $p overlaps the root cache $root_cache"
  case "$p" in
    /dev | /dev/* | /proc | /proc/* | /run | /run/* | /etc/resolv.conf) nmtb_die "$flag $p: a path the build mounts itself" ;;
  esac
  bind_sources+=("$p")
}
scan_source_args() {
  local i=0
  local -a a=("$@")
  while ((i < ${#a[@]})); do
    case "${a[i]}" in
      --path) [[ $((i + 1)) -ge ${#a[@]} ]] || add_bind_source "${a[i + 1]}" --path ;;
      --git)
        if [[ $((i + 1)) -lt ${#a[@]} ]]; then
          case "${a[i + 1]}" in
            /*) add_bind_source "${a[i + 1]}" --git ;;
            file:///*) add_bind_source "${a[i + 1]#file://}" --git ;;
          esac
        fi
        ;;
    esac
    i=$((i + 1))
  done
}
scan_source_args "${fetch_args[@]}" "${build_args[@]}"
mkdir -p "$root_cache" "$out_dir"

# ---------------------------------------------------------------- the disk's content key
# Hashing a 4 GB image takes ~25 s: remember the hash per file identity (device, inode, size,
# mtime, ctime; ctime cannot be set back), so only a changed or new disk is hashed again.
t0="$(now_ms)"
identity="$(stat -L -c '%d %i %s %.9Y %.9Z' -- "$disk")"
id_file="$root_cache/.disk-ids/$(nmtb_sha256 "$disk $identity")"
disk_hash=""
if [[ -f $id_file ]]; then read -r disk_hash <"$id_file" || true; fi
if [[ ! $disk_hash =~ ^[0-9a-f]{64}$ ]]; then
  nmtb_log "hashing $disk (once per disk)"
  disk_hash="$(nmtb_sha256_file "$disk")"
  mkdir -p "$root_cache/.disk-ids"
  printf '%s\n' "$disk_hash" >"$id_file.tmp.$$"
  mv -f "$id_file.tmp.$$" "$id_file"
fi
root_key="${disk_hash:0:32}"
root="$root_cache/$root_key"
took[diskKey]=$(($(now_ms) - t0))

# One run per root at a time: builds, apt and the bind mount points share it.
exec 7>"$root_cache/.lock-$root_key"
flock -w "${NMTB_LOCK_WAIT_SECONDS:-3600}" 7 || nmtb_die "another native build holds $root_cache/.lock-$root_key"

# ---------------------------------------------------------------- extract the root (once)
root_extracted=0
if [[ ! -d $root ]]; then
  t0="$(now_ms)"
  # Partial extractions of killed runs (we hold the lock: none is in progress).
  find "$root_cache" -maxdepth 1 -name ".extract-$root_key.*" -exec rm -rf -- {} +
  extract_tmp="$(mktemp -d "$root_cache/.extract-$root_key.XXXXXX")"
  nmtb_log "extracting the root filesystem of $disk into $root"
  if ! debugfs -R "ls -l /" "$disk" >/dev/null 2>"$extract_tmp.log"; then
    rm -f -- "$extract_tmp.log"
    nmtb_die "$disk is not a raw ext2/3/4 disk image that debugfs can read"
  fi
  # rdump skips device nodes and keeps only the permission bits; as non-root it cannot chown
  # (the files are the caller's, root inside the user namespace).
  debugfs -R "rdump / $extract_tmp" "$disk" >"$extract_tmp.log" 2>&1 || {
    tail -n 20 "$extract_tmp.log" >&2
    rm -f -- "$extract_tmp.log"
    nmtb_die "debugfs rdump failed"
  }
  rm -f -- "$extract_tmp.log"
  [[ -e $extract_tmp/usr/bin/env && -d $extract_tmp/etc/apt ]] || nmtb_die "$disk does not hold a Debian root filesystem"
  chmod 1777 "$extract_tmp/tmp" "$extract_tmp/var/tmp"
  mkdir -p "$extract_tmp/dev" "$extract_tmp/proc" "$extract_tmp/run"
  # The controller's resolv.conf is bind-mounted over it: it must be a plain file of the root.
  rm -f -- "$extract_tmp/etc/resolv.conf"
  : >"$extract_tmp/etc/resolv.conf"
  # apt drops to the _apt user for downloads; a user namespace maps only one uid, so it cannot.
  # This root is a build root, not a host: downloads as root are acceptable here.
  printf 'APT::Sandbox::User "root";\n' >"$extract_tmp/etc/apt/apt.conf.d/99nmtb-native-build"
  mv -- "$extract_tmp" "$root"
  extract_tmp=""
  root_extracted=1
  took[extract]=$(($(now_ms) - t0))
else
  nmtb_log "reusing the extracted root $root"
fi

# Mount points for the sources, made in the root and removed again on exit.
for p in "${bind_sources[@]}"; do
  # A symlink in the root along the path would send the mount (made outside the chroot) out of it.
  rel=""
  IFS=/ read -r -a parts <<<"${p#/}"
  for part in "${parts[@]}"; do
    rel+="/$part"
    [[ ! -L $root$rel ]] || nmtb_die "$p: $rel is a symlink in the image's root; put the source elsewhere (e.g. under /tmp)"
  done
  [[ ! -e $root$p ]] || continue
  top="$p"
  while [[ ! -e $root$(dirname "$top") ]]; do top="$(dirname "$top")"; done
  created_mountpoints+=("$root$p|$root$top")
  mkdir -p -- "$root$(dirname "$p")"
  if [[ -d $p ]]; then mkdir -- "$root$p"; else : >"$root$p"; fi
done

# ---------------------------------------------------------------- the project's scripts
scripts_dir=/opt/netmap-testbed/scripts/native
rm -rf -- "$root$scripts_dir.tmp"
mkdir -p -- "$root$scripts_dir.tmp"
cp -a -- "$kernel_builds" "$root$scripts_dir.tmp/kernel-builds"
rm -rf -- "$root$scripts_dir"
mv -- "$root$scripts_dir.tmp" "$root$scripts_dir"
scripts_in_root="$scripts_dir/kernel-builds"

# ---------------------------------------------------------------- running in the root
# The namespace's init is killed with unshare (--kill-child), and with it every process of the
# build; the mounts die with the namespace.
read -r -d '' enter_root <<'ENTER' || true
set -euo pipefail
root="$1"
shift
while [[ $1 != -- ]]; do
  mount --bind "$1" "$root$1"
  # Read-only where the kernel allows it (a user namespace cannot always change locked flags).
  mount -o remount,bind,ro "$root$1" 2>/dev/null || true
  shift
done
shift
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount --bind "$(readlink -f /etc/resolv.conf)" "$root/etc/resolv.conf"
exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' ${NMTB_NATIVE_TAR_OPTIONS:+"TAR_OPTIONS=$NMTB_NATIVE_TAR_OPTIONS"} "$@"
ENTER
in_root() {
  NMTB_NATIVE_TAR_OPTIONS="$tar_options" timeout -k 30 "$phase_timeout" unshare "${userns[@]}" --mount --pid --fork --kill-child --propagation private -- \
    /bin/bash -c "$enter_root" native-root "$root" "${bind_sources[@]}" -- "$@" </dev/null
}

# run_phase NAME VAR CMD...: runs CMD in the root, its stdout (a script's JSON) into VAR.
fetch_json="" build_json=""
run_phase() {
  local name="$1" var="$2" t0 out rc=0
  shift 2
  t0="$(now_ms)"
  out="$(in_root "$@")" || rc=$?
  took[$name]=$(($(now_ms) - t0))
  ((rc != 124 && rc != 137)) || nmtb_die "$name: no result within --timeout $phase_timeout s"
  ((rc == 0)) || nmtb_die "$name failed in the image's root (exit $rc): see the messages above"
  out="$(printf '%s\n' "$out" | grep '^{' | tail -n 1 || true)"
  [[ $out == '{'*'}' ]] || nmtb_die "$name printed no JSON result"
  printf -v "$var" '%s' "$out"
}

# json_field JSON NAME: a string, boolean or number field of a flat JSON object from our scripts.
json_field() {
  local v
  v="$(sed -n 's/.*"'"$2"'":"\([^"\\]*\)".*/\1/p' <<<"$1" | head -n 1)"
  [[ -n $v ]] || v="$(sed -n 's/.*"'"$2"'":\(true\|false\|[0-9][0-9.]*\)[,}].*/\1/p' <<<"$1" | head -n 1)"
  printf '%s' "$v"
}

# An archive already in OUT is reused when the build did no work and the archive is the one this
# root last produced (its digest recorded in the root): same bytes, same digest for the lab host.
export_marker() { printf '%s/var/lib/netmap-testbed/native-exports/%s.sha256' "$root" "$1"; }
archive_current() {
  local name="$1" recorded=""
  [[ -f $out_dir/$name && -f $(export_marker "$name") ]] || return 1
  read -r recorded <"$(export_marker "$name")" || return 1
  [[ $recorded =~ ^[0-9a-f]{64}$ && $(nmtb_sha256_file "$out_dir/$name") == "$recorded" ]]
}
publish_archive() { # publish_archive NAME TMPFILE -> prints the digest
  local name="$1" tmp="$2" sha
  sha="$(nmtb_sha256_file "$tmp")"
  printf '%s  %s\n' "$sha" "$name" >"$tmp.sha256"
  mv -f -- "$tmp" "$out_dir/$name"
  mv -f -- "$tmp.sha256" "$out_dir/$name.sha256"
  mkdir -p -- "$(dirname "$(export_marker "$name")")"
  printf '%s\n' "$sha" >"$(export_marker "$name")"
  printf '%s' "$sha"
}

common_json() {
  printf '"root":%s,"rootExtracted":%s,"disk":%s,"diskSha256":%s' "$(nmtb_json_str "$root")" \
    "$(nmtb_json_bool "$root_extracted")" "$(nmtb_json_str "$disk")" "$(nmtb_json_str "$disk_hash")"
}

# ---------------------------------------------------------------- netmap
if [[ $kind == netmap ]]; then
  has_release=0
  for a in "${build_args[@]}"; do [[ $a != --kernel-release ]] || has_release=1; done
  if ((!has_release)); then
    # The lab host's build.sh defaults to its `uname -r`: the image's only kernel. The chroot's
    # uname is the controller's, so name it.
    # shellcheck disable=SC2016 # expands in the root
    mapfile -t releases < <(in_root /bin/bash -c 'for d in /lib/modules/*; do [[ -e $d/build/.config ]] && basename "$d"; done; true')
    [[ ${#releases[@]} -eq 1 ]] || nmtb_die "the image has kernel headers for ${#releases[@]} releases (${releases[*]:-none}): pass --kernel-release in BUILD_ARGS"
    nmtb_require_release "${releases[0]}" "the image's kernel release"
    build_args+=(--kernel-release "${releases[0]}")
  fi

  nmtb_log "fetch.sh ${fetch_args[*]}"
  run_phase fetch fetch_json bash "$scripts_in_root/netmap/fetch.sh" "${fetch_args[@]}"
  source_dir="$(json_field "$fetch_json" sourceDir)"
  commit="$(json_field "$fetch_json" commit)"
  nmtb_require_path "$source_dir" "fetch.sh's sourceDir"
  nmtb_require_match "fetch.sh's commit" "$commit" '^([0-9a-f]{40}|[0-9a-f]{64}|sha256:[0-9a-f]{64})$' 'a commit'

  nmtb_log "build.sh --source-dir $source_dir --commit $commit ${build_args[*]}"
  run_phase build build_json bash "$scripts_in_root/netmap/build.sh" --source-dir "$source_dir" --commit "$commit" "${build_args[@]}"
  build_key="$(json_field "$build_json" buildKey)"
  built="$(json_field "$build_json" built)"
  nmtb_require_match "build.sh's buildKey" "$build_key" '^[0-9a-f]{64}$' 'a build key'

  name="$build_key.tgz"
  exported=0
  if [[ $built == false ]] && archive_current "$name"; then
    nmtb_log "build $build_key unchanged: keeping $out_dir/$name"
    sha="$(nmtb_sha256_file "$out_dir/$name")"
  else
    tmp="$out_dir/.$name.tmp.$$"
    tmp_files+=("$tmp" "$tmp.sha256")
    t0="$(now_ms)"
    in_root bash "$scripts_in_root/netmap/export.sh" --build-key "$build_key" >"$tmp" || nmtb_die "export.sh failed"
    sha="$(publish_archive "$name" "$tmp")"
    took[export]=$(($(now_ms) - t0))
    exported=1
  fi
  took[total]=$(($(now_ms) - t_start))
  nmtb_log "netmap build $build_key: $out_dir/$name (sha256 $sha)"
  printf '{"kind":"netmap","archive":%s,"sha256":%s,"buildKey":%s,"sourceDir":%s,"commit":%s,"built":%s,"exported":%s,%s,"fetch":%s,"build":%s,"seconds":%s}\n' \
    "$(nmtb_json_str "$out_dir/$name")" "$(nmtb_json_str "$sha")" "$(nmtb_json_str "$build_key")" \
    "$(nmtb_json_str "$source_dir")" "$(nmtb_json_str "$commit")" "$(nmtb_json_bool "$built")" \
    "$(nmtb_json_bool "$exported")" "$(common_json)" "$fetch_json" "$build_json" \
    "$(seconds_json diskKey extract fetch build export total)"
  exit 0
fi

# ---------------------------------------------------------------- qemu
netmap_source=""
for ((i = 0; i + 1 < ${#build_args[@]}; i++)); do
  [[ ${build_args[i]} != --netmap-source ]] || netmap_source="${build_args[i + 1]}"
done
[[ -n $netmap_source ]] || nmtb_usage_error "QEMU_BUILD_ARGS need --netmap-source"
nmtb_require_path "$netmap_source" --netmap-source
if ! in_root test -f "$netmap_source/sys/net/netmap.h"; then
  nmtb_die "--netmap-source $netmap_source is not a netmap tree in the image's root: run 'native-build.sh netmap' with the same --disk and --root-cache first and pass its \"sourceDir\""
fi

nmtb_log "qemu/build.sh apply ${build_args[*]}"
run_phase build build_json bash "$scripts_in_root/qemu/build.sh" apply "${build_args[@]}"
config_key="$(json_field "$build_json" configKey)"
prefix="$(json_field "$build_json" prefix)"
changed="$(json_field "$build_json" changed)"
nmtb_require_name "$config_key" "build.sh's configKey"
nmtb_require_path "$prefix" "build.sh's prefix"
rel=""
IFS=/ read -r -a parts <<<"${prefix#/}"
for part in "${parts[@]}"; do
  rel+="/$part"
  [[ ! -L $root$rel ]] || nmtb_die "the prefix $prefix goes through a symlink ($rel) in the image's root"
done
[[ -d $root$prefix ]] || nmtb_die "build.sh reported prefix $prefix, which is not in the root"

name="qemu-$config_key.tgz"
exported=0
packages=()
if [[ $changed == false ]] && archive_current "$name"; then
  nmtb_log "QEMU $config_key unchanged: keeping $out_dir/$name"
  sha="$(nmtb_sha256_file "$out_dir/$name")"
  read -r -a packages <<<"$(sed -n 's/^runtimePackages //p' "$(export_marker "$name").meta" 2>/dev/null || true)"
else
  t0="$(now_ms)"
  # build.sh export names the runtime packages (ldd + dpkg -S in the root: the lab host has none
  # of QEMU's libraries) in the archive's .netmap-testbed-archive, read back from it here.
  tmp="$out_dir/.$name.tmp.$$"
  tmp_files+=("$tmp" "$tmp.sha256" "$tmp.meta")
  in_root bash "$scripts_in_root/qemu/build.sh" export --config-key "$config_key" --prefix "$prefix" >"$tmp" ||
    nmtb_die "qemu/build.sh export failed"
  tar -xzOf "$tmp" .netmap-testbed-archive >"$tmp.meta" 2>/dev/null ||
    nmtb_die "qemu/build.sh export wrote no .netmap-testbed-archive"
  [[ $(sed -n 's/^configKey //p' "$tmp.meta") == "$config_key" && $(sed -n 's/^prefix //p' "$tmp.meta") == "$prefix" ]] ||
    nmtb_die "qemu/build.sh export's archive is not of $config_key in $prefix"
  read -r -a packages <<<"$(sed -n 's/^runtimePackages //p' "$tmp.meta")"
  for p in "${packages[@]}"; do nmtb_require_match "runtime package" "$p" '^[a-z0-9][a-z0-9+.-]+$' 'a Debian package name'; done
  sha="$(publish_archive "$name" "$tmp")"
  mv -f -- "$tmp.meta" "$(export_marker "$name").meta"
  took[pack]=$(($(now_ms) - t0))
  exported=1
fi
took[total]=$(($(now_ms) - t_start))
nmtb_log "QEMU $config_key: $out_dir/$name (sha256 $sha; runtime packages: ${packages[*]:-none})"
printf '{"kind":"qemu","archive":%s,"sha256":%s,"configKey":%s,"prefix":%s,"runtimePackages":%s,"built":%s,"exported":%s,%s,"build":%s,"seconds":%s}\n' \
  "$(nmtb_json_str "$out_dir/$name")" "$(nmtb_json_str "$sha")" "$(nmtb_json_str "$config_key")" \
  "$(nmtb_json_str "$prefix")" "$(nmtb_json_array "${packages[@]}")" "$(nmtb_json_bool "$changed")" \
  "$(nmtb_json_bool "$exported")" "$(common_json)" "$build_json" "$(seconds_json diskKey extract build pack total)"

#!/usr/bin/env bash
# Builds netmap and the netmap-patched NIC drivers for one kernel release, out of tree, in a build
# directory named by the build key; an unchanged key does no work (stamp). configure's own report
# of the drivers it will build must equal what was asked: netmap's configure silently drops
# drivers in some cases even with --fail-on-driver-errors.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: build.sh --source-dir DIR --commit C --config-key K [--kernel-release R]
                [--driver DRV]... [--select-version DRV:VER]... [--configure-arg ARG]...
                [--kernel-sources DIR] [--jobs N] [--check-only | --adopt DIR]

  --source-dir DIR        netmap source tree (fetch.sh's sourceDir); never written to
  --commit C              fetch.sh's commit (git sha or sha256:<hex>)
  --config-key K          hash of the topology's build settings (plan's configKey)
  --kernel-release R      kernel to build for (default: uname -r); uses /lib/modules/R/build
  --driver DRV            a driver as netmap's configure names it (ixgbe, i40e, virtio_net.c);
                          none = --no-drivers
  --select-version D:V    external driver version (configure --select-version)
  --configure-arg ARG     any other configure option (e.g. --disable-monitor); options this
                          script sets itself are refused
  --kernel-sources DIR    full kernel sources (in-tree driver patching)
  --jobs N                make -j (default: nproc)
  --check-only            never build: print the result if the build is current, else exit 3
  --adopt DIR             take DIR (another host's build of the same key, unpacked by import.sh
                          into $NMTB_CACHE_DIR/build/) instead of building; its stamp must hold
                          this host's fingerprint for these arguments

buildKey = sha256("netmap-testbed/netmap-build/v1\n" K "\n" R "\n" C "\n"), hex.
environment: NMTB_CACHE_DIR (builds in $NMTB_CACHE_DIR/build/<buildKey>), NMTB_STATE_DIR,
  NMTB_BUILD_MIN_FREE_MIB (free space a build needs there before it starts; default 256)
stdout: {"buildKey","buildDir","built","imported","kernelRelease","commit","drivers","modules","apps","log"}
USAGE
}

source_dir=""
commit=""
config_key=""
release=""
kernel_sources=""
jobs=""
check_only=0
adopt_dir=""
drivers=()
versions=()
extra_args=()
orig_args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --source-dir) source_dir="$(nmtb_flag_value "$@")"; shift 2 ;;
    --commit) commit="$(nmtb_flag_value "$@")"; shift 2 ;;
    --config-key) config_key="$(nmtb_flag_value "$@")"; shift 2 ;;
    --kernel-release) release="$(nmtb_flag_value "$@")"; shift 2 ;;
    --kernel-sources) kernel_sources="$(nmtb_flag_value "$@")"; shift 2 ;;
    --jobs) jobs="$(nmtb_flag_value "$@")"; shift 2 ;;
    --check-only) check_only=1; shift ;;
    --adopt) adopt_dir="$(nmtb_flag_value "$@")"; shift 2 ;;
    --driver) drivers+=("$(nmtb_flag_value "$@")"); shift 2 ;;
    --select-version) versions+=("$(nmtb_flag_value "$@")"); shift 2 ;;
    --configure-arg) extra_args+=("$(nmtb_flag_value "$@")"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
[[ -n $source_dir ]] || nmtb_usage_error "--source-dir is required"
[[ -n $commit ]] || nmtb_usage_error "--commit is required"
[[ -n $config_key ]] || nmtb_usage_error "--config-key is required"
nmtb_require_path "$source_dir" --source-dir
nmtb_require_match commit "$commit" '^([0-9a-f]{40}|[0-9a-f]{64}|sha256:[0-9a-f]{64})$' 'a git commit or sha256:<hex> as fetch.sh prints it'
nmtb_require_name "$config_key" --config-key
[[ -n $release ]] || release="$(uname -r)"
nmtb_require_release "$release"
[[ -z $kernel_sources ]] || nmtb_require_path "$kernel_sources" --kernel-sources
[[ -z $adopt_dir ]] || nmtb_require_path "$adopt_dir" --adopt
((check_only == 0)) || [[ -z $adopt_dir ]] || nmtb_usage_error "--check-only and --adopt exclude each other"
[[ -n $jobs ]] || jobs="$(nproc)"
nmtb_require_uint "$jobs" --jobs
((jobs >= 1)) || nmtb_usage_error "--jobs must be at least 1"
for d in "${drivers[@]}"; do nmtb_require_driver "$d" --driver; done
for v in "${versions[@]}"; do
  nmtb_require_match "--select-version" "$v" '^[A-Za-z0-9_][A-Za-z0-9_-]{0,54}:[0-9A-Za-z][0-9A-Za-z._+-]{0,31}$' 'DRIVER:VERSION, e.g. ixgbe:6.1.6'
done
for a in "${extra_args[@]}"; do
  nmtb_require_match "--configure-arg" "$a" '^--[a-z][a-z0-9-]*(=[A-Za-z0-9_.,:/+=-]*)?$' 'a --option or --option=value without spaces'
  case "${a%%=*}" in
    --kernel-dir | --kernel-version | --kernel-sources | --drivers | --no-drivers | --select-version | \
      --fail-on-driver-errors | --driver-suffix | --mod-name | --install-mod-path | --prefix | --destdir | \
      --cache | --help | --show-drivers | --show-ext-drivers | --show-apps)
      nmtb_usage_error "--configure-arg $a: build.sh sets ${a%%=*} itself (use its own flag, or see docs/kernel-builds.md)" ;;
  esac
done
[[ -x "$source_dir/configure" ]] || nmtb_die "$source_dir/configure is missing or not executable: not a netmap source tree"
kernel_dir="/lib/modules/$release/build"
[[ -e "$kernel_dir/.config" ]] || nmtb_die "no prepared kernel headers at $kernel_dir (run prepare.sh on a host running $release, or install linux-headers-$release)"
if [[ -n $kernel_sources ]]; then [[ -d $kernel_sources ]] || nmtb_die "--kernel-sources $kernel_sources does not exist"; fi

build_key="$(nmtb_sha256 "netmap-testbed/netmap-build/v1"$'\n'"$config_key"$'\n'"$release"$'\n'"$commit"$'\n')"
build_root="$NMTB_CACHE_DIR/build"
build_dir="$build_root/$build_key"
log="$build_root/$build_key.log"
stamp="$build_dir/.nmtb-built"
mkdir -p "$build_root"
exec 8>"$build_root/$build_key.lock"
flock -w "${NMTB_LOCK_WAIT_SECONDS:-3600}" 8 || nmtb_die "another build of $build_key is running"

# Everything that shapes the output; the stamp stores it, so a caller whose configKey does not
# cover its arguments gets a rebuild instead of a stale build.
# Drivers may be named as modules (virtio_net) or as netmap's configure names them: in-tree
# drivers after their source file (virtio_net.c). Ask configure which names it knows
# (`--show-drivers`, run in a scratch dir) and use its spelling, so the report check compares like
# with like. A configure without the option leaves the names as given.
if ((${#drivers[@]})); then
  scratch="$(mktemp -d)"
  known=" $( (cd "$scratch" && "$source_dir/configure" --show-drivers 2>/dev/null) | tr -s '[:space:]' ' ' || true) "
  rm -rf "$scratch"
  for i in "${!drivers[@]}"; do
    d="${drivers[i]}"
    if [[ $known != *" $d "* && $known == *" $d.c "* ]]; then
      nmtb_log "driver $d is $d.c to netmap's configure"
      drivers[i]="$d.c"
    fi
  done
fi
mapfile -t sorted_drivers < <(printf '%s\n' "${drivers[@]}" | sed '/^$/d' | LC_ALL=C sort -u)
mapfile -t sorted_versions < <(printf '%s\n' "${versions[@]}" | sed '/^$/d' | LC_ALL=C sort -u)
fingerprint="$(
  printf 'key=%s\nsource=%s\ndrivers=%s\nversions=%s\nargs=%s\nsources=%s\n' "$build_key" "$source_dir" \
    "${sorted_drivers[*]}" "${sorted_versions[*]}" "${extra_args[*]}" "$kernel_sources" | sha256sum | cut -d' ' -f1
)"

list_modules() {
  find "$build_dir" -path "$build_dir/netmap-tmpdir" -prune -o -type f -name '*.ko' -print | LC_ALL=C sort
}

emit() {
  local built="$1" imported="${2:-0}" m
  local -a mods=() names=() apps=()
  mapfile -t mods < <(list_modules)
  for m in "${mods[@]}"; do names+=("$(basename "$m" .ko)"); done
  if [[ -f "$build_dir/netmap.mak" ]]; then
    read -r -a apps <<<"$(sed -n 's/^APPS_LIST[[:space:]]*[:]*=[[:space:]]*//p' "$build_dir/netmap.mak" | head -n1)"
  fi
  printf '{"buildKey":%s,"buildDir":%s,"built":%s,"imported":%s,"kernelRelease":%s,"commit":%s,"drivers":%s,"modules":%s,"apps":%s,"log":%s}\n' \
    "$(nmtb_json_str "$build_key")" "$(nmtb_json_str "$build_dir")" "$(nmtb_json_bool "$built")" "$(nmtb_json_bool "$imported")" \
    "$(nmtb_json_str "$release")" "$(nmtb_json_str "$commit")" "$(nmtb_json_array "${sorted_drivers[@]}")" \
    "$(nmtb_json_array "${names[@]}")" "$(nmtb_json_array "${apps[@]}")" "$(nmtb_json_str "$log")"
}

remember() {
  # What persist.sh's boot-time rebuild needs: this argv minus the kernel release (and the modes).
  local -a keep=() i
  mkdir -p "$NMTB_STATE_DIR/netmap"
  i=0
  while ((i < ${#orig_args[@]})); do
    if [[ ${orig_args[i]} == --kernel-release || ${orig_args[i]} == --adopt ]]; then
      i=$((i + 2))
      continue
    fi
    if [[ ${orig_args[i]} == --check-only ]]; then
      i=$((i + 1))
      continue
    fi
    keep+=("${orig_args[i]}")
    i=$((i + 1))
  done
  nmtb_write_args "$NMTB_STATE_DIR/netmap/build.args" "${keep[@]}"
  printf '%s\n' "$build_dir" >"$NMTB_STATE_DIR/netmap/build-dir.$release"
}

if [[ -f $stamp && "$(cat "$stamp")" == "$fingerprint" ]]; then
  nmtb_log "build $build_key is up to date ($build_dir): nothing to do"
  [[ -z $adopt_dir ]] || rm -rf "$adopt_dir"
  remember
  emit 0
  exit 0
fi
if ((check_only)); then
  nmtb_log "no current build $build_key in $build_dir"
  exit 3
fi
if [[ -n $adopt_dir ]]; then
  # Another host's build of the same key (import.sh). Its stamp is that host's fingerprint of its
  # arguments, which includes the source and kernel-sources paths: equal means it was made from
  # the same inputs at the same paths, which the build directory refers to (netmap.mak, links).
  adopt_fail() {
    rm -rf "$adopt_dir"
    nmtb_die "cannot adopt the imported build: $1"
  }
  [[ $(dirname "$adopt_dir") == "$build_root" && -d $adopt_dir && ! -L $adopt_dir ]] ||
    adopt_fail "$adopt_dir is not a directory in $build_root"
  [[ -f "$adopt_dir/.nmtb-built" ]] || adopt_fail "it has no build stamp (an incomplete build)"
  [[ "$(cat "$adopt_dir/.nmtb-built")" == "$fingerprint" ]] ||
    adopt_fail "it was built from other inputs or paths than these arguments give on this host (stamp fingerprint differs)"
  [[ -n "$(find "$adopt_dir" -path "$adopt_dir/netmap-tmpdir" -prune -o -type f -name netmap.ko -print -quit)" ]] ||
    adopt_fail "it has no netmap.ko"
  # fetch.sh put this host's copy of the same sources here, possibly after the other host built:
  # outputs must not look older than their sources, or make (install-apps) would redo the work.
  now="$(date +%s)"
  find "$adopt_dir" -exec touch -h -c -d "@$now" {} +
  rm -rf "$build_dir"
  mv "$adopt_dir" "$build_dir"
  {
    printf '# netmap-testbed build %s for %s, commit %s\n' "$build_key" "$release" "$commit"
    printf '# imported from another host, not built here\n'
  } >"$log"
  nmtb_log "adopted the imported build $build_key in $build_dir"
  remember
  emit 0 1
  exit 0
fi
if [[ -e $build_dir ]]; then
  nmtb_log "removing incomplete or different build in $build_dir"
  rm -rf "$build_dir"
fi

# What a build needs in $build_root: netmap 89607e14 without NIC drivers took 42 MiB; each driver
# adds its copied kernel sources and objects. Checked before the build, and again when it fails,
# so that a full disk is named as such rather than as a compiler error halfway through.
min_free_mib="${NMTB_BUILD_MIN_FREE_MIB:-256}"
nmtb_require_uint "$min_free_mib" NMTB_BUILD_MIN_FREE_MIB
free_mib() { df -Pm "$build_root" | awk 'NR == 2 { print $4 }'; }
space_problem() {
  local free
  free="$(free_mib)"
  ((free < min_free_mib)) || return 1
  printf 'not enough space in %s: %s MiB free, a netmap build needs %s MiB (free some, or set NMTB_CACHE_DIR to a larger filesystem)' \
    "$build_root" "$free" "$min_free_mib"
}

# The reason comes last: a caller that keeps only the last lines of the output (the controller
# keeps 20) must still see why, not only the compiler's last words.
fail() {
  local reason="$1" space
  if space="$(space_problem)"; then reason="$reason; $space"; fi
  if [[ -f $log && ${NMTB_LOG_TAIL_LINES:-60} != 0 ]]; then
    nmtb_log "last lines of $log:"
    # awk ends every line, also a last one cut short (a full disk stops the log mid-line).
    tail -n "${NMTB_LOG_TAIL_LINES:-60}" "$log" | awk -v p="$NMTB_SCRIPT: | " '{ print p $0 }' >&2
  fi
  rm -rf "$build_dir"
  nmtb_log "build failed: $reason"
  exit 1
}

if space="$(space_problem)"; then nmtb_die "$space"; fi

configure_args=("--kernel-dir=$kernel_dir" "--fail-on-driver-errors" "--prefix=/usr/local")
[[ -z $kernel_sources ]] || configure_args+=("--kernel-sources=$kernel_sources")
if ((${#sorted_drivers[@]})); then
  configure_args+=("--drivers=$(IFS=,; printf '%s' "${sorted_drivers[*]}")")
else
  configure_args+=("--no-drivers")
fi
if ((${#sorted_versions[@]})); then
  configure_args+=("--select-version=$(IFS=,; printf '%s' "${sorted_versions[*]}")")
fi
configure_args+=("${extra_args[@]}")

mkdir -p "$build_dir"
: >"$log"
nmtb_log "configure in $build_dir: ${configure_args[*]}"
{
  printf '# netmap-testbed build %s for %s, commit %s\n' "$build_key" "$release" "$commit"
  printf '# %s/configure' "$source_dir"
  printf ' %q' "${configure_args[@]}"
  printf '\n'
} >>"$log"
if ! (cd "$build_dir" && "$source_dir/configure" "${configure_args[@]}") >"$build_dir/.nmtb-configure.out" 2>&1; then
  cat "$build_dir/.nmtb-configure.out" >>"$log"
  [[ ! -f "$build_dir/config.log" ]] || tail -n 40 "$build_dir/config.log" >>"$log"
  fail "configure exited with an error"
fi
cat "$build_dir/.nmtb-configure.out" >>"$log"
config_out="$build_dir/.nmtb-configure.out"

# configure only warns about options, subsystems, apps and driver versions it does not know or
# cannot use: each would silently change the build, so each is an error here.
if grep -qE 'Unrecognized option: |unknown (subsystem|application): | is not an external driver' "$config_out"; then
  fail "configure ignored part of the request: $(grep -E 'Unrecognized option: |unknown (subsystem|application): | is not an external driver' "$config_out" | sed 's/^\*\*\* //' | tr '\n' ';')"
fi

# The report's "native drivers" line (netmap's LINUX/configure `report`): the drivers it will build.
report_line="$(grep -E '^native drivers[[:space:]]' "$config_out" | tail -n1 || true)"
if [[ -z $report_line ]] && ! grep -qE '^native drivers[[:space:]]*$' "$config_out"; then
  fail "configure printed no 'native drivers' report line"
fi
read -r -a reported <<<"$(printf '%s' "$report_line" | sed 's/^native drivers[[:space:]]*//')"
mapfile -t reported_sorted < <(printf '%s\n' "${reported[@]}" | sed '/^$/d' | LC_ALL=C sort -u)
if [[ "${reported_sorted[*]}" != "${sorted_drivers[*]}" ]]; then
  {
    printf '# asked for drivers: %s\n' "${sorted_drivers[*]:-(none)}"
    printf '# configure will build: %s\n' "${reported_sorted[*]:-(none)}"
  } >>"$log"
  missing=()
  for d in "${sorted_drivers[@]}"; do
    [[ " ${reported_sorted[*]} " == *" $d "* ]] || missing+=("$d")
  done
  nmtb_log "configure report:"
  grep -E '^(kernel directory|kernel sources|linux version|subsystems|apps|native drivers)' "$config_out" | sed "s/^/$NMTB_SCRIPT: | /" >&2 || true
  grep -E '^\*\*\* ' "$config_out" | sed "s/^/$NMTB_SCRIPT: | /" >&2 || true
  NMTB_LOG_TAIL_LINES=0 fail "configure will build drivers [${reported_sorted[*]}] but [${sorted_drivers[*]}] were asked (not built: ${missing[*]:-none}); see its warnings above"
fi
# netmap.mak carries the same list (S_DRIVERS): cross-check when present.
if [[ -f "$build_dir/netmap.mak" ]]; then
  read -r -a mak_drivers <<<"$(sed -n 's/^S_DRIVERS[[:space:]]*[:]*=[[:space:]]*//p' "$build_dir/netmap.mak" | head -n1)"
  mapfile -t mak_sorted < <(printf '%s\n' "${mak_drivers[@]}" | sed '/^$/d' | LC_ALL=C sort -u)
  [[ "${mak_sorted[*]}" == "${sorted_drivers[*]}" ]] || fail "netmap.mak lists drivers [${mak_sorted[*]}], asked [${sorted_drivers[*]}]"
fi

nmtb_log "make -j$jobs (log: $log)"
if ! make -C "$build_dir" -j "$jobs" >>"$log" 2>&1; then
  fail "make exited with an error"
fi

# Every module must be there: netmap and one per asked driver.
mapfile -t built_modules < <(list_modules)
module_set=" "
for m in "${built_modules[@]}"; do module_set+="$(nmtb_module_sysname "$(basename "$m" .ko)") "; done
[[ $module_set == *" netmap "* ]] || fail "make produced no netmap.ko"
for d in "${sorted_drivers[@]}"; do
  [[ $module_set == *" $(nmtb_driver_module "$d") "* ]] || fail "make produced no module for driver $d"
done

printf '%s\n' "$fingerprint" >"$stamp"
nmtb_log "built $build_key:${module_set% }"
remember
emit 1

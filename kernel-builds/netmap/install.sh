#!/usr/bin/env bash
# Installs a finished build for one kernel release: modules into
# /lib/modules/<R>/extra/netmap-testbed/ with a depmod override so the patched copies win over the
# stock drivers, tools into $NMTB_OPT_DIR/bin; checks vermagic and `depends: netmap` and rolls the
# install back when a check fails. Every installed file goes into a manifest for teardown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: install.sh --build-dir DIR --kernel-release R [--tools 1|0]

  --build-dir DIR       a finished build (build.sh's buildDir)
  --kernel-release R    the release the build is for (modules go to /lib/modules/R)
  --tools 1|0           install the userspace tools (vale-ctl, pkt-gen, ...) (default 1)

environment: NMTB_STATE_DIR, NMTB_OPT_DIR
stdout: {"kernelRelease","moduleDir","modules","patchedDrivers","tools","depmodOverride","changed"}
USAGE
}

build_dir=""
release=""
tools=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir="$(nmtb_flag_value "$@")"; shift 2 ;;
    --kernel-release) release="$(nmtb_flag_value "$@")"; shift 2 ;;
    --tools) tools="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
[[ -n $build_dir ]] || nmtb_usage_error "--build-dir is required"
[[ -n $release ]] || nmtb_usage_error "--kernel-release is required"
nmtb_require_path "$build_dir" --build-dir
nmtb_require_release "$release"
nmtb_require_bool01 "$tools" --tools
nmtb_require_root
[[ -f "$build_dir/.nmtb-built" ]] || nmtb_die "$build_dir is not a finished build (no .nmtb-built stamp): run build.sh"
[[ -d "/lib/modules/$release" ]] || nmtb_die "/lib/modules/$release does not exist"
nmtb_lock

state="$NMTB_STATE_DIR/netmap"
mod_dir="/lib/modules/$release/$NMTB_MODULE_SUBDIR"
override="/etc/depmod.d/netmap-testbed-$release.conf"
manifest="$state/install.$release.manifest"
modlist="$state/install.$release.modules"
tools_manifest="$state/tools.manifest"
mkdir -p "$state"

mapfile -t kos < <(find "$build_dir" -path "$build_dir/netmap-tmpdir" -prune -o -type f -name '*.ko' -print | LC_ALL=C sort)
((${#kos[@]})) || nmtb_die "no modules in $build_dir"

# ---------------------------------------------------------------- checks before touching anything
declare -A seen=()
names=()
patched=()
for ko in "${kos[@]}"; do
  name="$(nmtb_module_sysname "$(basename "$ko" .ko)")"
  nmtb_require_module "$name" "module in the build"
  [[ -z ${seen[$name]:-} ]] || nmtb_die "two modules named $name in $build_dir: ${seen[$name]} and $ko"
  seen[$name]="$ko"
  names+=("$name")
  vermagic="$(modinfo -F vermagic "$ko" | awk '{print $1}')"
  [[ $vermagic == "$release" ]] || nmtb_die "$ko was built for '$vermagic', not $release"
  if [[ $name != netmap ]]; then
    depends=",$(modinfo -F depends "$ko"),"
    [[ $depends == *,netmap,* ]] || nmtb_die "$ko does not depend on netmap (depends: ${depends//,/ }): not a netmap-patched driver"
    patched+=("$name")
  fi
done
[[ -n ${seen[netmap]:-} ]] || nmtb_die "no netmap.ko in $build_dir"

# ---------------------------------------------------------------- idempotence
desired_override="$(
  echo "# netmap-testbed: netmap-patched drivers for $release win over the stock ones. Remove with teardown.sh."
  for name in "${names[@]}"; do printf 'override %s %s %s\n' "$name" "$release" "$NMTB_MODULE_SUBDIR"; done
)"
up_to_date=1
for name in "${names[@]}"; do
  cmp -s "${seen[$name]}" "$mod_dir/$name.ko" || up_to_date=0
done
[[ -f $override && "$(cat "$override")" == "$desired_override" ]] || up_to_date=0
[[ -f $modlist && "$(cat "$modlist")" == "$(printf '%s\n' "${names[@]}")" ]] || up_to_date=0

rollback() {
  nmtb_log "rolling back the install for $release"
  if [[ -f $manifest ]]; then
    while IFS= read -r f; do [[ -z $f ]] || rm -f "$f"; done <"$manifest"
  fi
  rm -f "$override" "$manifest" "$modlist"
  rmdir "$mod_dir" 2>/dev/null || true
  depmod -a "$release" || true
}

changed=0
if ((up_to_date)); then
  nmtb_log "modules for $release already installed in $mod_dir"
else
  changed=1
  # Files of an earlier install that this build does not have go first.
  if [[ -f $manifest ]]; then
    while IFS= read -r f; do
      [[ -z $f ]] || rm -f "$f"
    done <"$manifest"
  fi
  mkdir -p "$mod_dir"
  : >"$manifest"
  for name in "${names[@]}"; do
    install -m 0644 "${seen[$name]}" "$mod_dir/$name.ko.nmtb-tmp"
    mv -f "$mod_dir/$name.ko.nmtb-tmp" "$mod_dir/$name.ko"
    printf '%s\n' "$mod_dir/$name.ko" >>"$manifest"
  done
  mkdir -p /etc/depmod.d
  printf '%s\n' "$desired_override" >"$override"
  printf '%s\n' "${names[@]}" >"$modlist"
  nmtb_log "depmod -a $release"
  depmod -a "$release" || {
    rollback
    nmtb_die "depmod -a $release failed"
  }
fi

# ---------------------------------------------------------------- what modprobe will load now
for name in "${names[@]}"; do
  resolved="$(modinfo -k "$release" -n "$name" 2>/dev/null || true)"
  if [[ $resolved != "$mod_dir/$name.ko" ]]; then
    rollback
    nmtb_die "after depmod, modprobe resolves $name to '${resolved:-nothing}', not $mod_dir/$name.ko (is another depmod.d override or an 'updates/' copy in the way?)"
  fi
  vermagic="$(modinfo -k "$release" -F vermagic "$name" | awk '{print $1}')"
  if [[ $vermagic != "$release" ]]; then
    rollback
    nmtb_die "installed $name has vermagic '$vermagic', not $release"
  fi
done

# ---------------------------------------------------------------- tools
installed_tools=()
if ((tools)); then
  stage="$(mktemp -d "${TMPDIR:-/tmp}/nmtb-tools.XXXXXX")"
  trap 'rm -rf "$stage"' EXIT
  if make -C "$build_dir" -s install-apps DESTDIR="$stage" PREFIX=/ >"$stage.log" 2>&1; then
    mkdir -p "$NMTB_OPT_DIR/bin"
    : >"$tools_manifest.tmp"
    for tool in "$stage"/bin/*; do
      [[ -f $tool && -x $tool ]] || continue
      t="$(basename "$tool")"
      [[ $t =~ ^[A-Za-z0-9._+-]+$ ]] || continue
      install -m 0755 "$tool" "$NMTB_OPT_DIR/bin/$t.nmtb-tmp"
      mv -f "$NMTB_OPT_DIR/bin/$t.nmtb-tmp" "$NMTB_OPT_DIR/bin/$t"
      printf '%s\n' "$NMTB_OPT_DIR/bin/$t" >>"$tools_manifest.tmp"
      installed_tools+=("$t")
    done
    # Tools of an earlier install that this build no longer has.
    if [[ -f $tools_manifest ]]; then
      while IFS= read -r f; do
        grep -qxF -- "$f" "$tools_manifest.tmp" || rm -f "$f"
      done <"$tools_manifest"
    fi
    mv -f "$tools_manifest.tmp" "$tools_manifest"
    rm -f "$stage.log"
  else
    nmtb_log "make install-apps failed:"
    tail -n 20 "$stage.log" | sed "s/^/$NMTB_SCRIPT: | /" >&2
    rm -f "$stage.log"
    nmtb_die "tools not installed (modules are installed)"
  fi
fi

nmtb_log "installed for $release: ${names[*]}${installed_tools[*]:+; tools: ${installed_tools[*]}}"
printf '{"kernelRelease":%s,"moduleDir":%s,"modules":%s,"patchedDrivers":%s,"tools":%s,"toolsDir":%s,"depmodOverride":%s,"changed":%s}\n' \
  "$(nmtb_json_str "$release")" "$(nmtb_json_str "$mod_dir")" "$(nmtb_json_array "${names[@]}")" \
  "$(nmtb_json_array "${patched[@]}")" "$(nmtb_json_array "${installed_tools[@]}")" "$(nmtb_json_str "$NMTB_OPT_DIR/bin")" \
  "$(nmtb_json_str "$override")" "$(nmtb_json_bool "$changed")"

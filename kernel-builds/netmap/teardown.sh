#!/usr/bin/env bash
# Undoes everything the netmap scripts did: unloads the patched drivers and netmap, removes the
# persistence, the installed modules, the depmod overrides and the tools, reloads the stock
# drivers, optionally drops the build cache, then CHECKS that the NICs' drivers and the modules
# the scripts touched are as recorded in the baseline (prepare.sh). Exit 1 if they are not.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: teardown.sh [--keep-cache 1|0] [--keep-baseline 1|0] [--wait-seconds N]

  --keep-cache 1|0    keep NMTB_CACHE_DIR (sources and builds) for a fast redeploy (default 1)
  --keep-baseline 1|0 keep prepare.sh's baseline after a clean check, because another install
                      follows on the same prepared host (a rebuild); default 0
  --wait-seconds N    bound on waiting for each baseline NIC to come back (default 60)

environment: NMTB_STATE_DIR, NMTB_OPT_DIR, NMTB_CACHE_DIR
stdout: {"clean","baseline","differences":[...],"unloaded":[...],"reloaded":[...],
         "removedFiles","cacheKept","untouchedModuleChanges":{"added":[...],"removed":[...]}}
USAGE
}

keep_cache=1
keep_baseline=0
wait_seconds=60
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep-cache) keep_cache="$(nmtb_flag_value "$@")"; shift 2 ;;
    --keep-baseline) keep_baseline="$(nmtb_flag_value "$@")"; shift 2 ;;
    --wait-seconds) wait_seconds="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
nmtb_require_bool01 "$keep_cache" --keep-cache
nmtb_require_bool01 "$keep_baseline" --keep-baseline
nmtb_require_uint "$wait_seconds" --wait-seconds
nmtb_require_path "$NMTB_CACHE_DIR" NMTB_CACHE_DIR
nmtb_require_root
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Persistence first, so a reboot in the middle of this does not bring netmap back. (With the
# Pulumi components, unload.sh already ran when the load step went: unloading again is a no-op.)
"$here/persist.sh" remove >/dev/null

nmtb_lock
release="$(uname -r)"
state="$NMTB_STATE_DIR/netmap"
have_baseline=0
[[ -f "$state/baseline.json" && -f "$state/baseline.modules" && -f "$state/baseline.nics" ]] && have_baseline=1

unloaded=()
failures=()
nmtb_unload_patched "$state"

# Installed files, overrides, tools.
removed=0
for manifest in "$state"/install.*.manifest "$state/tools.manifest"; do
  [[ -f $manifest ]] || continue
  while IFS= read -r f; do
    [[ -n $f && -e $f ]] || continue
    rm -f "$f" && removed=$((removed + 1))
  done <"$manifest"
done
releases=()
for f in /etc/depmod.d/netmap-testbed-*.conf; do
  [[ -f $f ]] || continue
  r="$(basename "$f" .conf)"
  releases+=("${r#netmap-testbed-}")
  rm -f "$f"
  removed=$((removed + 1))
done
for f in "$state"/install.*.modules; do
  [[ -f $f ]] || continue
  r="$(basename "$f" .modules)"
  releases+=("${r#install.}")
done
for r in $(printf '%s\n' "${releases[@]}" | sort -u); do
  [[ $r =~ ^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$ ]] || continue
  rmdir "/lib/modules/$r/$NMTB_MODULE_SUBDIR" "/lib/modules/$r/extra" 2>/dev/null || true
  if [[ -d "/lib/modules/$r/kernel" || $r == "$release" ]]; then
    nmtb_log "depmod -a $r"
    depmod -a "$r" || failures+=("depmod -a $r failed")
  fi
done
rm -f "$state"/install.*.manifest "$state"/install.*.modules "$state/tools.manifest"
rmdir "$NMTB_OPT_DIR/bin" 2>/dev/null || true

# Stock drivers back: those the baseline had loaded among the modules we touched or the NICs used.
reloaded=()
if ((have_baseline)); then
  declare -A want=()
  while IFS=$'\t' read -r _ module _; do [[ -z $module ]] || want[$module]=1; done <"$state/baseline.nics"
  if [[ -f "$state/touched.modules" ]]; then
    while IFS= read -r m; do
      [[ -n $m ]] && grep -qxF -- "$m" "$state/baseline.modules" && want[$m]=1
    done <"$state/touched.modules"
  fi
  for m in $(printf '%s\n' "${!want[@]}" | sort); do
    [[ $m =~ ^[A-Za-z0-9_-]+$ ]] || continue
    grep -qxF -- "$m" "$state/baseline.modules" || continue # built-in or not loaded at baseline
    nmtb_module_loaded "$m" && continue
    nmtb_log "reloading stock $m"
    if modprobe "$m"; then reloaded+=("$m"); else failures+=("cannot reload stock $m"); fi
  done
  while IFS=$'\t' read -r ifname _ _; do
    nmtb_wait_until "$wait_seconds" nmtb_iface_exists "$ifname" || true
  done <"$state/baseline.nics"
fi

if ((!keep_cache)) && [[ -d $NMTB_CACHE_DIR ]]; then
  nmtb_log "removing the build cache $NMTB_CACHE_DIR"
  rm -rf "${NMTB_CACHE_DIR:?}"
fi

# ---------------------------------------------------------------- the check
differences=("${failures[@]}")
added=()
gone=()
if ((have_baseline)); then
  while IFS=$'\t' read -r ifname module _; do
    if ! nmtb_iface_exists "$ifname"; then
      differences+=("interface $ifname is missing (baseline: driver ${module:-none})")
      continue
    fi
    now="$(nmtb_iface_module "$ifname")"
    [[ $now == "$module" ]] || differences+=("interface $ifname is driven by '${now:-none}', baseline '${module:-none}'")
  done <"$state/baseline.nics"
  touched=(netmap)
  [[ ! -f "$state/touched.modules" ]] || mapfile -t touched <"$state/touched.modules"
  for m in "${touched[@]}"; do
    [[ -n $m ]] || continue
    was=0
    grep -qxF -- "$m" "$state/baseline.modules" && was=1
    is=0
    nmtb_module_loaded "$m" && is=1
    if ((was != is)); then
      differences+=("module $m is $( ((is)) && echo loaded || echo 'not loaded'), baseline: $( ((was)) && echo loaded || echo 'not loaded')")
    elif ((is)) && nmtb_module_holds netmap "$m"; then
      differences+=("module $m is still the patched copy")
    fi
  done
  # Informational: module changes the scripts did not make (another tool, udev, a user).
  mapfile -t added < <(comm -13 "$state/baseline.modules" <(nmtb_loaded_modules))
  mapfile -t gone < <(comm -23 "$state/baseline.modules" <(nmtb_loaded_modules))
else
  nmtb_log "no baseline recorded (already torn down, or prepare.sh never ran): checking that netmap is gone"
fi
if nmtb_module_loaded netmap; then
  [[ " ${differences[*]} " == *"module netmap "* ]] || differences+=("module netmap is still loaded")
fi

clean=1
((${#differences[@]} == 0)) || clean=0
if ((clean)); then
  rm -f "$state/touched.modules" "$state/load.args" "$state/load.management" "$state/build.args" "$state"/build-dir.*
  if ((!keep_baseline)); then
    # The host is forgotten: its records go, then the directories the other steps' removals left
    # empty (what is kept, a QEMU build, keeps its own), and the lock last (held, so unlinking is safe).
    rm -f "$state"/baseline.* "$state/source.json" "$state/.lock"
    for dir in "$NMTB_STATE_DIR/vale/ports" "$NMTB_STATE_DIR/vale" "$NMTB_STATE_DIR/vms" "$state" "$NMTB_STATE_DIR"; do
      rmdir "$dir" 2>/dev/null || true
    done
  fi
  nmtb_log "host is back to its baseline"
else
  nmtb_log "host differs from its baseline (baseline kept in $state):"
  printf '%s\n' "${differences[@]}" | sed "s/^/$NMTB_SCRIPT: | /" >&2
fi
printf '{"clean":%s,"baseline":%s,"differences":%s,"unloaded":%s,"reloaded":%s,"removedFiles":%s,"cacheKept":%s,"untouchedModuleChanges":{"added":%s,"removed":%s}}\n' \
  "$(nmtb_json_bool "$clean")" "$(nmtb_json_bool "$have_baseline")" "$(nmtb_json_array "${differences[@]}")" \
  "$(nmtb_json_array "${unloaded[@]}")" "$(nmtb_json_array "${reloaded[@]}")" "$removed" "$(nmtb_json_bool "$keep_cache")" \
  "$(nmtb_json_array "${added[@]}")" "$(nmtb_json_array "${gone[@]}")"
((clean)) || exit 1

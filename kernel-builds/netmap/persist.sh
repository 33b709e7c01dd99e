#!/usr/bin/env bash
# Makes the loaded state survive a reboot: a systemd unit that, at boot, runs a stable copy of
# boot.sh (rebuild + install when the running kernel has no build, then load.sh with the
# recorded arguments), and modprobe options so netmap gets its parameters however it is loaded.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: persist.sh apply
       persist.sh remove

  apply    install/refresh the boot unit from the arguments of the last successful load.sh
           (NMTB_STATE_DIR/netmap/load.args) and build.sh (build.args)
  remove   disable and delete the unit, the modprobe options and the boot copy of the scripts

environment: NMTB_STATE_DIR, NMTB_OPT_DIR, NMTB_CACHE_DIR (recorded in the unit)
stdout: {"action","unit","enabled","changed","modprobeConf","bootScripts"}
USAGE
}

[[ $# -eq 1 ]] || nmtb_usage_error "expected apply or remove"
action="$1"
case "$action" in
  apply | remove) ;;
  -h | --help) usage; exit 0 ;;
  *) nmtb_usage_error "unknown action: $action" ;;
esac
nmtb_require_path "$NMTB_STATE_DIR" NMTB_STATE_DIR
nmtb_require_path "$NMTB_OPT_DIR" NMTB_OPT_DIR
nmtb_require_path "$NMTB_CACHE_DIR" NMTB_CACHE_DIR
nmtb_require_root
nmtb_lock

unit_name="netmap-testbed-modules.service"
unit="/etc/systemd/system/$unit_name"
modprobe_conf="/etc/modprobe.d/netmap-testbed.conf"
boot_dir="$NMTB_OPT_DIR/boot"
state="$NMTB_STATE_DIR/netmap"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
have_systemd=0
[[ -d /run/systemd/system ]] && have_systemd=1

emit() {
  printf '{"action":%s,"unit":%s,"enabled":%s,"changed":%s,"modprobeConf":%s,"bootScripts":%s}\n' \
    "$(nmtb_json_str "$action")" "$(nmtb_json_str "$unit")" "$(nmtb_json_bool "$1")" "$(nmtb_json_bool "$2")" \
    "$(nmtb_json_str "$modprobe_conf")" "$(nmtb_json_str "$boot_dir/netmap/boot.sh")"
}

if [[ $action == remove ]]; then
  changed=0
  if [[ -f $unit ]]; then
    if ((have_systemd)); then systemctl disable "$unit_name" >&2 2>/dev/null || true; fi
    rm -f "$unit"
    changed=1
    if ((have_systemd)); then systemctl daemon-reload; fi
  fi
  if [[ -f $modprobe_conf ]]; then rm -f "$modprobe_conf"; changed=1; fi
  if [[ -d $boot_dir ]]; then rm -rf "$boot_dir"; changed=1; fi
  nmtb_log "persistence removed (changed: $changed)"
  emit 0 "$changed"
  exit 0
fi

((have_systemd)) || nmtb_die "systemd is not running on this host: cannot install $unit_name"
declare -a load_args=()
nmtb_read_args "$state/load.args" load_args || nmtb_die "no $state/load.args: run load.sh successfully first"

# netmap's parameters, for whoever loads it (udev loading a patched driver pulls netmap in).
options=()
for ((i = 0; i < ${#load_args[@]}; i++)); do
  if [[ ${load_args[i]} == --param ]]; then
    nmtb_require_param "${load_args[i + 1]}" "recorded --param"
    options+=("${load_args[i + 1]}")
  fi
done
desired_conf="# netmap-testbed: netmap's parameters (persist.sh; removed by teardown.sh)"
if ((${#options[@]})); then desired_conf+=$'\n'"options netmap ${options[*]}"; fi

changed=0
# A stable copy of the scripts: the bundle directory may be replaced by the next deploy.
tmp="$boot_dir.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/lib" "$tmp/netmap"
for f in "$here"/../lib/*.sh; do install -m 0644 "$f" "$tmp/lib/$(basename "$f")"; done
for f in "$here"/*.sh; do install -m 0755 "$f" "$tmp/netmap/$(basename "$f")"; done
if ! diff -r "$tmp" "$boot_dir" >/dev/null 2>&1; then
  rm -rf "$boot_dir"
  mv "$tmp" "$boot_dir"
  changed=1
else
  rm -rf "$tmp"
fi

if [[ ! -f $modprobe_conf || "$(cat "$modprobe_conf")" != "$desired_conf" ]]; then
  mkdir -p /etc/modprobe.d
  printf '%s\n' "$desired_conf" >"$modprobe_conf"
  changed=1
fi

desired_unit="[Unit]
Description=netmap-testbed: netmap and the netmap-patched NIC drivers
# After udev's coldplug: a stock driver from the initramfs or udev is already bound; boot.sh swaps it.
After=systemd-udev-trigger.service systemd-modules-load.service local-fs.target
Wants=systemd-udev-trigger.service
ConditionPathExists=$state/load.args

[Service]
Type=oneshot
RemainAfterExit=yes
Environment=NMTB_STATE_DIR=$NMTB_STATE_DIR NMTB_OPT_DIR=$NMTB_OPT_DIR NMTB_CACHE_DIR=$NMTB_CACHE_DIR
ExecStart=$boot_dir/netmap/boot.sh
# A rebuild for a new kernel release can take a while.
TimeoutStartSec=3600

[Install]
WantedBy=multi-user.target"
if [[ ! -f $unit || "$(cat "$unit")" != "$desired_unit" ]]; then
  printf '%s\n' "$desired_unit" >"$unit"
  systemctl daemon-reload
  changed=1
fi
if ! systemctl is-enabled --quiet "$unit_name" 2>/dev/null; then
  systemctl enable "$unit_name" >&2 2>/dev/null
  changed=1
fi
nmtb_log "$unit_name enabled (changed: $changed)"
emit 1 "$changed"

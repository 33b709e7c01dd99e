#!/usr/bin/env bash
# Creates, attaches, detaches and deletes a persistent VALE port, and reports its state.
# Idempotent; reads the real state back from vale-ctl's listing. Never runs `vale-ctl -g`
# (on an attached persistent port it corrupts the port until reboot).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/vm.sh
. "$here/../lib/vm.sh"

usage() {
  cat <<'EOF'
usage: vale-port.sh apply|remove|status --switch valeX --port P
         [--rings N] [--slots N] [--mem-id M] [--vale-ctl PATH]

  apply   create the persistent port P (vale-ctl -n P [-C slots,slots,rings,rings] [-m M]) unless
          it exists, then attach it to the switch (vale-ctl -a valeX:P) unless attached
  remove  detach (vale-ctl -d valeX:P), then delete (vale-ctl -r P); absent = success
  status  what the listing shows for the port and its switch

  --rings N     tx and rx rings (default: netmap's default)
  --slots N     tx and rx slots per ring (default: netmap's default)
  --mem-id M    memory region id (ports sharing one region exchange packets zero-copy: trusted only)
  --vale-ctl P  vale-ctl binary (default: vale-ctl on PATH, else $NMTB_OPT_DIR/bin/vale-ctl)

Environment: NMTB_STATE_DIR (default /var/lib/netmap-testbed), NMTB_OPT_DIR.
stdout: one JSON object {"action","switch","port","name","exists","attached","changed",...}.
EOF
}

[[ $# -ge 1 ]] || nmtb_usage_error "missing action"
action="$1"
shift
case "$action" in
  apply | remove | status) ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) nmtb_usage_error "unknown action '$action'" ;;
esac

switch="" port="" rings="" slots="" mem_id="" vale_ctl=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --switch) switch="$(nmtb_flag_value "$@")" && shift 2 ;;
    --port) port="$(nmtb_flag_value "$@")" && shift 2 ;;
    --rings) rings="$(nmtb_flag_value "$@")" && shift 2 ;;
    --slots) slots="$(nmtb_flag_value "$@")" && shift 2 ;;
    --mem-id) mem_id="$(nmtb_flag_value "$@")" && shift 2 ;;
    --vale-ctl) vale_ctl="$(nmtb_flag_value "$@")" && shift 2 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) nmtb_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n $switch ]] || nmtb_usage_error "--switch is required"
[[ -n $port ]] || nmtb_usage_error "--port is required"
nmtb_require_vale_switch "$switch"
nmtb_require_vale_port "$port"
[[ -z $rings ]] || nmtb_require_uint "$rings" "--rings"
[[ -z $slots ]] || nmtb_require_uint "$slots" "--slots"
[[ -z $mem_id ]] || nmtb_require_uint "$mem_id" "--mem-id"
[[ -z $vale_ctl ]] || nmtb_require_path "$vale_ctl" "--vale-ctl"

NMTB_VALE_CTL="$(nmtb_find_vale_ctl "$vale_ctl")"
name="$switch:$port"
marker_dir="$NMTB_STATE_DIR/vale/ports"
marker="$marker_dir/$port"
geometry="rings=${rings:-default} slots=${slots:-default} mem_id=${mem_id:-default} switch=$switch"

# Fills: attached (1/0), other_switch, bridge_idx, port_idx, exists (1/0), corrupted (1/0).
read_state() {
  nmtb_vale_list
  attached=0 other_switch="" bridge_idx="" port_idx="" corrupted=0 exists=0
  local loc sw
  if loc="$(nmtb_vale_lookup "$name")"; then
    attached=1
    bridge_idx="${loc%% *}"
    port_idx="${loc#* }"
  elif sw="$(nmtb_vale_switch_of "$port")"; then
    other_switch="$sw"
  fi
  nmtb_vale_is_anomalous "$port" && corrupted=1
  if ((attached)) || nmtb_netdev_exists "$port" || ((corrupted)); then exists=1; fi
  return 0
}

emit() {
  local changed="$1"
  shift
  printf '{"action":%s,"switch":%s,"port":%s,"name":%s,"exists":%s,"attached":%s,"changed":%s,' \
    "$(nmtb_json_str "$action")" "$(nmtb_json_str "$switch")" "$(nmtb_json_str "$port")" \
    "$(nmtb_json_str "$name")" "$(nmtb_json_bool "$exists")" "$(nmtb_json_bool "$attached")" \
    "$(nmtb_json_bool "$changed")"
  printf '"bridgeIdx":%s,"portIdx":%s,"managed":%s,"corrupted":%s,"otherSwitch":%s,"switchPorts":%s' \
    "${bridge_idx:-null}" "${port_idx:-null}" "$(nmtb_json_bool "$([[ -f $marker ]] && echo 1 || echo 0)")" \
    "$(nmtb_json_bool "$corrupted")" "$([[ -n $other_switch ]] && nmtb_json_str "$other_switch" || echo null)" \
    "$(nmtb_vale_switch_json "$switch")"
  local extra
  for extra in "$@"; do printf ',%s' "$extra"; done
  printf '}\n'
}

fail_corrupted() {
  nmtb_die "$(nmtb_corrupted_port_message "$port")"
}

case "$action" in
  status)
    if ! nmtb_vale_netmap_loaded; then
      printf '{"action":"status","switch":%s,"port":%s,"name":%s,"present":false,"netmapLoaded":false}\n' \
        "$(nmtb_json_str "$switch")" "$(nmtb_json_str "$port")" "$(nmtb_json_str "$name")"
      exit 0
    fi
    read_state
    # "present" (read by refresh): the port exists and is attached to this switch, intact.
    present=0
    ((attached && !corrupted)) && present=1
    emit false "\"present\":$(nmtb_json_bool "$present")"
    ;;

  apply)
    nmtb_lock
    read_state
    ((corrupted)) && fail_corrupted
    [[ -z $other_switch ]] || nmtb_die "port $port is attached to $other_switch, not $switch: remove it there first"
    changed=0 created=0
    if [[ -f $marker ]]; then
      recorded="$(cat "$marker")"
      [[ $recorded == "$geometry" ]] ||
        nmtb_die "port $port exists with ($recorded), wanted ($geometry): remove it first (rings/slots/memory need a new port)"
    elif ((exists)) && ((!attached)); then
      # A netdev of that name that we did not create and that is on no switch: maybe a NIC.
      nmtb_die "a network interface named $port exists and was not created by netmap-testbed; choose another port name"
    fi
    if ((!exists)); then
      args=(-n "$port")
      if [[ -n $rings || -n $slots ]]; then
        # -C tx_slots,rx_slots,tx_rings,rx_rings (0 = netmap's default).
        args+=(-C "${slots:-0},${slots:-0},${rings:-0},${rings:-0}")
      fi
      [[ -z $mem_id ]] || args+=(-m "$mem_id")
      nmtb_log "creating persistent port $port (vale-ctl ${args[*]})"
      nmtb_vale_ctl "${args[@]}"
      if ((NMTB_VC_RC != 0)); then
        [[ $(nmtb_vale_errno_text "$NMTB_VC_ERR") == "File exists" ]] ||
          nmtb_die "creating $port failed: $(head -n1 <<<"$NMTB_VC_ERR")"
        nmtb_log "port $port appeared meanwhile (File exists)"
      else
        created=1
        changed=1
      fi
    fi
    mkdir -p "$marker_dir"
    [[ -f $marker ]] || printf '%s' "$geometry" >"$marker"
    if ((!attached)); then
      nmtb_log "attaching $name"
      nmtb_vale_ctl -a "$name"
      if ((NMTB_VC_RC != 0)); then
        err="$(head -n1 <<<"$NMTB_VC_ERR")"
        read_state
        ((attached)) || nmtb_die "attaching $name failed: $err"
        nmtb_log "$name was attached meanwhile"
      else
        changed=1
      fi
    fi
    read_state
    ((attached)) || nmtb_die "$name is not in the listing after attaching it"
    emit "$changed" "\"created\":$(nmtb_json_bool "$created")"
    ;;

  remove)
    nmtb_lock
    if ! nmtb_vale_netmap_loaded; then
      # VALE ports live in netmap: without the module (unloaded, or a reboot without the boot
      # unit) nothing of this one is left to remove.
      rm -f "$marker"
      nmtb_log "netmap is not loaded: $name does not exist"
      printf '{"action":"remove","switch":%s,"port":%s,"name":%s,"changed":false,"netmapLoaded":false}\n' \
        "$(nmtb_json_str "$switch")" "$(nmtb_json_str "$port")" "$(nmtb_json_str "$name")"
      exit 0
    fi
    read_state
    ((corrupted)) && fail_corrupted
    changed=0 detached=0 deleted=0
    if ((attached)); then
      nmtb_log "detaching $name"
      nmtb_vale_ctl -d "$name"
      if ((NMTB_VC_RC != 0)); then
        err="$(head -n1 <<<"$NMTB_VC_ERR")"
        text="$(nmtb_vale_errno_text "$NMTB_VC_ERR")"
        read_state
        ((corrupted)) && fail_corrupted
        if ((attached)); then nmtb_die "detaching $name failed: $err"; fi
        case "$text" in
          "No such device or address" | "No such device" | "No such file or directory") nmtb_log "$name already detached ($text)" ;;
          *) nmtb_die "detaching $name failed: $err" ;;
        esac
      else
        detached=1
        changed=1
      fi
    fi
    # Delete only a port we created (marker) or one listed on our switch: never a NIC by accident.
    if [[ -f $marker ]] || ((detached)); then
      if nmtb_netdev_exists "$port" || [[ ! -d $NMTB_SYS_CLASS_NET ]]; then
        nmtb_log "deleting persistent port $port"
        nmtb_vale_ctl -r "$port"
        if ((NMTB_VC_RC != 0)); then
          text="$(nmtb_vale_errno_text "$NMTB_VC_ERR")"
          case "$text" in
            "No such device or address" | "No such device" | "No such file or directory") nmtb_log "$port already deleted ($text)" ;;
            "Invalid argument")
              # Not a persistent VALE port (e.g. a NIC attached by hand): detached, left in place.
              [[ ! -f $marker ]] || nmtb_die "deleting $port failed: $(head -n1 <<<"$NMTB_VC_ERR")"
              nmtb_log "$port is not a persistent VALE port: detached it, not deleting it"
              ;;
            *) nmtb_die "deleting $port failed: $(head -n1 <<<"$NMTB_VC_ERR")" ;;
          esac
        else
          deleted=1
          changed=1
        fi
      fi
    fi
    rm -f "$marker"
    read_state
    ((!attached)) || nmtb_die "$name is still attached after removing it"
    emit "$changed" "\"detached\":$(nmtb_json_bool "$detached")" "\"deleted\":$(nmtb_json_bool "$deleted")"
    ;;
esac

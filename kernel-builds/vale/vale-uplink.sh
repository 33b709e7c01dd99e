#!/usr/bin/env bash
# Attaches a host NIC to a VALE switch (vale-ctl -a valeX:IF, or -h to keep the host stack),
# detaches it, or reports its state. Idempotent; state is read back from vale-ctl's listing.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/vm.sh
. "$here/../lib/vm.sh"

usage() {
  cat <<'EOF'
usage: vale-uplink.sh attach|detach|status --switch valeX --interface IF [--host-stack [1|0]]
         [--vale-ctl PATH]

  attach  vale-ctl -a valeX:IF (the NIC leaves the host stack), or with --host-stack
          vale-ctl -h valeX:IF (the host stack stays reachable through the switch port IF^)
  detach  vale-ctl -d valeX:IF; not attached = success
  status  what the listing shows

The NIC must be driven by a netmap-patched driver (or netmap's generic adapter). Never attach the
NIC that carries the management (SSH) connection without --host-stack.
stdout: one JSON object {"action","switch","interface","name","attached","hostStack","changed",...}.
EOF
}

[[ $# -ge 1 ]] || nmtb_usage_error "missing action"
action="$1"
shift
case "$action" in
  attach | detach | status) ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) nmtb_usage_error "unknown action '$action'" ;;
esac

switch="" iface="" host_stack=0 vale_ctl=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --switch) switch="$(nmtb_flag_value "$@")" && shift 2 ;;
    --interface) iface="$(nmtb_flag_value "$@")" && shift 2 ;;
    --host-stack)
      if [[ $# -ge 2 && ($2 == 0 || $2 == 1) ]]; then
        host_stack="$2"
        shift 2
      else
        host_stack=1
        shift
      fi
      ;;
    --vale-ctl) vale_ctl="$(nmtb_flag_value "$@")" && shift 2 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) nmtb_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n $switch ]] || nmtb_usage_error "--switch is required"
[[ -n $iface ]] || nmtb_usage_error "--interface is required"
nmtb_require_vale_switch "$switch"
# The interface name goes into "valeX:IF", so VALE's character rules apply on top of Linux's.
nmtb_require_vale_port "$iface" "--interface"
[[ -z $vale_ctl ]] || nmtb_require_path "$vale_ctl" "--vale-ctl"

NMTB_VALE_CTL="$(nmtb_find_vale_ctl "$vale_ctl")"
name="$switch:$iface"

read_state() {
  nmtb_vale_list
  attached=0 attached_host=0 other_switch="" bridge_idx="" port_idx=""
  local loc sw
  if loc="$(nmtb_vale_lookup "$name")"; then
    attached=1
    bridge_idx="${loc%% *}"
    port_idx="${loc#* }"
    # With -h, netmap lists the NIC's host-stack port as IF^ on the same switch.
    if nmtb_vale_lookup "$name^" >/dev/null; then attached_host=1; fi
  elif sw="$(nmtb_vale_switch_of "$iface")"; then
    other_switch="$sw"
  fi
  return 0
}

emit() {
  local changed="$1" extra="${2:-}"
  printf '{"action":%s,"switch":%s,"interface":%s,"name":%s,"attached":%s,"hostStack":%s,"changed":%s,' \
    "$(nmtb_json_str "$action")" "$(nmtb_json_str "$switch")" "$(nmtb_json_str "$iface")" \
    "$(nmtb_json_str "$name")" "$(nmtb_json_bool "$attached")" "$(nmtb_json_bool "$attached_host")" \
    "$(nmtb_json_bool "$changed")"
  printf '"bridgeIdx":%s,"portIdx":%s,"otherSwitch":%s,"switchPorts":%s%s}\n' \
    "${bridge_idx:-null}" "${port_idx:-null}" \
    "$([[ -n $other_switch ]] && nmtb_json_str "$other_switch" || echo null)" "$(nmtb_vale_switch_json "$switch")" \
    "${extra:+,$extra}"
}

case "$action" in
  status)
    if ! nmtb_vale_netmap_loaded; then
      printf '{"action":"status","switch":%s,"interface":%s,"present":false,"netmapLoaded":false}\n' \
        "$(nmtb_json_str "$switch")" "$(nmtb_json_str "$iface")"
      exit 0
    fi
    read_state
    # "present" (read by refresh): the interface is attached to this switch.
    emit false "\"present\":$(nmtb_json_bool "$attached")"
    ;;

  attach)
    nmtb_lock
    read_state
    [[ -z $other_switch ]] || nmtb_die "$iface is attached to $other_switch, not $switch: detach it there first"
    changed=0
    if ((attached)); then
      ((attached_host == host_stack)) ||
        nmtb_die "$name is attached with host stack $( ((attached_host)) && echo kept || echo detached); detach it first to change that"
    else
      nmtb_netdev_exists "$iface" || nmtb_die "no network interface named $iface"
      flag=-a
      ((host_stack)) && flag=-h
      nmtb_log "attaching $name (vale-ctl $flag)"
      nmtb_vale_ctl "$flag" "$name"
      if ((NMTB_VC_RC != 0)); then
        err="$(head -n1 <<<"$NMTB_VC_ERR")"
        read_state
        ((attached)) || nmtb_die "attaching $name failed: $err"
      else
        changed=1
      fi
    fi
    read_state
    ((attached)) || nmtb_die "$name is not in the listing after attaching it"
    emit "$changed"
    ;;

  detach)
    nmtb_lock
    if ! nmtb_vale_netmap_loaded; then
      # Without netmap no interface is attached to any switch: nothing to detach.
      nmtb_log "netmap is not loaded: $name is not attached"
      printf '{"action":"detach","switch":%s,"interface":%s,"changed":false,"netmapLoaded":false}\n' \
        "$(nmtb_json_str "$switch")" "$(nmtb_json_str "$iface")"
      exit 0
    fi
    read_state
    changed=0
    if ((attached)); then
      nmtb_log "detaching $name"
      nmtb_vale_ctl -d "$name"
      if ((NMTB_VC_RC != 0)); then
        err="$(head -n1 <<<"$NMTB_VC_ERR")"
        read_state
        ((!attached)) || nmtb_die "detaching $name failed: $err"
      else
        changed=1
      fi
      read_state
      ((!attached)) || nmtb_die "$name is still attached after detaching it"
    fi
    emit "$changed"
    ;;
esac

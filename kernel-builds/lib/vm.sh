# shellcheck shell=bash
# Helpers for the VALE, QEMU, image and VM scripts (kernel-builds/{vale,qemu,image,vm}). Sourced
# after lib/common.sh, never executed. Same conventions: no eval, names validated before use.

# ---------------------------------------------------------------- VALE names

# A VALE switch: "vale" + [0-9A-Za-z_], at most 15 characters in all.
nmtb_require_vale_switch() {
  nmtb_require_match "${2:-VALE switch}" "$1" '^vale[0-9A-Za-z_]{0,11}$' \
    'a switch is "vale" followed by letters, digits or "_", at most 15 characters (e.g. vale0)'
}

# A VALE port (the part after "valeX:"): [0-9A-Za-z_], 1..15 characters. A persistent port is
# also a Linux netdev of the same name, so the netdev limit (15) applies as well.
nmtb_require_vale_port() {
  nmtb_require_match "${2:-VALE port}" "$1" '^[0-9A-Za-z_]{1,15}$' \
    'letters, digits and "_" only, at most 15 characters'
}

# Where the netdevs are (a test hook: tests point it at a fake sysfs).
NMTB_SYS_CLASS_NET="${NMTB_SYS_CLASS_NET:-/sys/class/net}"

nmtb_netdev_exists() {
  [[ -e "$NMTB_SYS_CLASS_NET/$1" ]]
}

# Resolves the vale-ctl binary: --vale-ctl PATH, else vale-ctl on PATH, else the testbed's copy.
nmtb_find_vale_ctl() {
  local given="$1" found
  if [[ -n $given ]]; then
    [[ -x $given ]] || nmtb_die "vale-ctl '$given' is not an executable file"
    printf '%s' "$given"
    return 0
  fi
  if found="$(command -v vale-ctl 2>/dev/null)" && [[ -n $found ]]; then
    printf '%s' "$found"
    return 0
  fi
  if [[ -x "$NMTB_OPT_DIR/bin/vale-ctl" ]]; then
    printf '%s' "$NMTB_OPT_DIR/bin/vale-ctl"
    return 0
  fi
  nmtb_die "vale-ctl not found on PATH nor at $NMTB_OPT_DIR/bin/vale-ctl (is netmap built and installed?)"
}

# Runs vale-ctl with the given arguments; sets NMTB_VC_OUT, NMTB_VC_ERR, NMTB_VC_RC.
# Never pass -g here for an attached port: it corrupts the port (see docs/vms.md).
# shellcheck disable=SC2120 # no arguments = the listing
nmtb_vale_ctl() {
  local out err
  out="$(mktemp)"
  err="$(mktemp)"
  NMTB_VC_RC=0
  "$NMTB_VALE_CTL" "$@" >"$out" 2>"$err" || NMTB_VC_RC=$?
  NMTB_VC_OUT="$(cat "$out")"
  NMTB_VC_ERR="$(cat "$err")"
  rm -f "$out" "$err"
}

# Whether netmap is loaded, as vale-ctl sees it: without the module there is no /dev/netmap and
# the listing says so. Status actions report that as drift rather than fail, so that a refresh
# of a host where netmap was unloaded shows every port as not present.
nmtb_vale_netmap_loaded() {
  # shellcheck disable=SC2119 # vale-ctl without arguments lists the ports
  nmtb_vale_ctl
  [[ $NMTB_VC_ERR != *"/dev/netmap: No such file or directory"* ]]
}

# Lists the VALE ports. The listing exits 1 even on success: success is judged by stderr.
# Fills NMTB_VALE_LIST (lines "NAME BRIDGE PORT") and NMTB_VALE_ANOMALIES (names printed without a
# switch prefix: corrupted state). Dies with vale-ctl's text when the listing failed.
nmtb_vale_list() {
  # shellcheck disable=SC2119 # vale-ctl without arguments lists the ports
  nmtb_vale_ctl
  if [[ -n ${NMTB_VC_ERR//[[:space:]]/} ]]; then
    nmtb_die "vale-ctl listing failed (exit $NMTB_VC_RC): $(head -n1 <<<"$NMTB_VC_ERR")"
  fi
  if [[ $NMTB_VC_RC -ne 0 && $NMTB_VC_RC -ne 1 ]]; then
    nmtb_die "vale-ctl listing exited with $NMTB_VC_RC"
  fi
  NMTB_VALE_LIST=()
  NMTB_VALE_ANOMALIES=()
  local line re='^([^[:space:]]+) bridge_idx ([0-9]+) port_idx ([0-9]+)$'
  while IFS= read -r line; do
    [[ -n ${line//[[:space:]]/} ]] || continue
    [[ $line =~ $re ]] || nmtb_die "unexpected vale-ctl listing line: $line"
    if [[ ${BASH_REMATCH[1]} == *?:?* ]]; then
      NMTB_VALE_LIST+=("${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}")
    else
      NMTB_VALE_ANOMALIES+=("${BASH_REMATCH[1]}")
    fi
  done <<<"$NMTB_VC_OUT"
}

# Prints "BRIDGE PORT" for a listed NAME (valeX:P); fails when it is not listed.
nmtb_vale_lookup() {
  local want="$1" entry
  for entry in "${NMTB_VALE_LIST[@]}"; do
    if [[ ${entry%% *} == "$want" ]]; then
      printf '%s' "${entry#* }"
      return 0
    fi
  done
  return 1
}

# Prints the switch a port/interface is attached to (first match), or fails.
nmtb_vale_switch_of() {
  local port="$1" entry name
  for entry in "${NMTB_VALE_LIST[@]}"; do
    name="${entry%% *}"
    if [[ ${name#*:} == "$port" ]]; then
      printf '%s' "${name%%:*}"
      return 0
    fi
  done
  return 1
}

nmtb_vale_is_anomalous() {
  local want="$1" name
  for name in "${NMTB_VALE_ANOMALIES[@]}"; do
    [[ $name == "$want" ]] && return 0
  done
  return 1
}

# The strerror part of a "failed to ACTION NAME: TEXT" line.
nmtb_vale_errno_text() {
  local line
  line="$(grep -m1 '^failed to ' <<<"$1" || true)"
  [[ -n $line ]] || return 0
  printf '%s' "${line##*: }"
}

nmtb_corrupted_port_message() {
  printf 'port %s is listed without its switch prefix: its netmap state is corrupted (this happens after "vale-ctl -g" on an attached port); detach fails with ENXIO and delete with EBUSY until the host reboots' "$1"
}

# JSON array of the listed entries of one switch: [{"name","port","bridgeIdx","portIdx"}].
nmtb_vale_switch_json() {
  local sw="$1" entry name rest first=1
  printf '['
  for entry in "${NMTB_VALE_LIST[@]}"; do
    name="${entry%% *}"
    [[ ${name%%:*} == "$sw" ]] || continue
    rest="${entry#* }"
    ((first)) || printf ','
    first=0
    printf '{"name":%s,"port":%s,"bridgeIdx":%s,"portIdx":%s}' "$(nmtb_json_str "$name")" \
      "$(nmtb_json_str "${name#*:}")" "${rest%% *}" "${rest#* }"
  done
  printf ']'
}

# ---------------------------------------------------------------- systemd

# Quotes one argument for a systemd ExecStart= line: double quotes around it, "\" and '"' escaped
# with a backslash, "%" doubled (specifiers) and "$" doubled (variable expansion). Newlines and
# other control characters are refused: they have no place in a QEMU argument.
nmtb_systemd_quote() {
  local s="$1"
  if [[ $s == *[$'\001'-$'\037'$'\177']* ]]; then
    nmtb_die "argument contains a control character, refusing to write it into a unit: $(printf '%q' "$s")"
  fi
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//%/%%}"
  s="${s//\$/\$\$}"
  printf '"%s"' "$s"
}

# The ExecStart= value for an argv.
nmtb_systemd_exec_line() {
  local first=1 arg
  for arg in "$@"; do
    ((first)) || printf ' '
    first=0
    nmtb_systemd_quote "$arg"
  done
}

nmtb_have_systemd() {
  [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1
}

# ---------------------------------------------------------------- QMP

# Sends QMP commands to a QEMU monitor socket and prints the JSON replies, one per line (the
# greeting and the qmp_capabilities reply are dropped). Needs python3 (a build dependency of the
# ptnet QEMU, so it is on every host that runs one). Commands are passed as argv, never evaluated.
#   nmtb_qmp SOCKET TIMEOUT '{"execute":"query-status"}' ...
nmtb_qmp() {
  local sock="$1" timeout="$2"
  shift 2
  command -v python3 >/dev/null 2>&1 || nmtb_die "python3 is needed to talk to QEMU's QMP socket (apt-get install python3)"
  python3 - "$sock" "$timeout" "$@" <<'PY'
import json, socket, sys

path, timeout, commands = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(timeout)
s.connect(path)
f = s.makefile("rwb", buffering=0)


def reply():
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("QMP socket closed")
        msg = json.loads(line)
        if "event" in msg:
            continue
        return msg


reply()  # greeting
f.write(b'{"execute":"qmp_capabilities"}\n')
reply()
for cmd in commands:
    json.loads(cmd)  # refuse anything that is not one JSON object
    f.write(cmd.encode() + b"\n")
    try:
        print(json.dumps(reply()), flush=True)
    except (OSError, SystemExit):
        # system_powerdown/quit may close the socket before or right after replying.
        if '"quit"' in cmd or "system_powerdown" in cmd:
            print('{"return": {}}', flush=True)
        else:
            raise
PY
}

# vCPU thread ids from query-cpus-fast, one "CPU_INDEX THREAD_ID" per line.
nmtb_qmp_vcpu_threads() {
  local sock="$1" json
  json="$(nmtb_qmp "$sock" 10 '{"execute":"query-cpus-fast"}')" || return 1
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
for c in r.get("return", []):
    print(c["cpu-index"], c["thread-id"])
' "$json"
}

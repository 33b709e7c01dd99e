#!/usr/bin/env bash
# Boots one local lab host: a qcow2 overlay on the cached base image (build-image.sh), its own
# pinned ed25519 SSH host key and root's authorized key delivered on a tiny "seed" disk (a raw
# tar archive, virtio serial nmtb-seed, read by nmtb-seed.service before sshd), SSH forwarded
# on 127.0.0.1, optional "cable" NICs (virtio-net over a UDP socket pair on 127.0.0.1, so no
# root, bridge or tap is needed). Waits until SSH answers with the pinned key.
# Idempotent: if the host in --state-dir is already running, prints its JSON again.
set -euo pipefail
NMTB_LAB_PROG="boot-host.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=kernel-builds/lab/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: boot-host.sh --name NAME --image-dir DIR --state-dir DIR [--ssh-port PORT] [--memory MIB]
                    [--cpus N] [--accel auto|kvm|tcg] [--authorized-key FILE.pub]
                    [--link LOCALPORT:PEERPORT]... [--timeout SECONDS] [-h]
  --name NAME          host name (also the guest's hostname)
  --image-dir DIR      a build-image.sh cache entry (disk.img, vmlinuz, initrd.img, kernel-release)
  --state-dir DIR      per-host state: overlay, keys, console log, pid, QMP socket
  --ssh-port PORT      host port forwarded to the guest's sshd on 127.0.0.1 (0 = pick a free one; default 0)
  --memory MIB         guest memory (default 2048)
  --cpus N             guest vCPUs (default 2)
  --disk-gib N         root disk size in GiB (default: the base image's size); the overlay is
                       grown to it and, once SSH answers, the root file system too (resize2fs)
  --accel MODE         auto (probe with detect-accel.sh; default), kvm or tcg
  --authorized-key F   public key for root instead of a generated per-host client key
  --link L:P           add a cable NIC (eth1, eth2, ... in order): UDP 127.0.0.1:L <-> 127.0.0.1:P;
                       the peer host uses --link P:L
  --timeout SECONDS    bound on the wait for SSH (default 180); on timeout the VM is killed
stdout: {name, pid, sshPort, address, user, hostKey, privateKeyPath, knownHosts, consoleLog,
         overlay, stateDir, accel, kernelRelease, links[{ifname,mac,localPort,peerPort}],
         bootSeconds, alreadyRunning}
USAGE
}

name="" image_dir="" state_dir="" ssh_port=0 memory=2048 cpus=2 accel=auto auth_key="" timeout_s=180 disk_gib=0
links=()
while (($#)); do
  case "$1" in
    --name) name="${2:?}"; shift 2 ;;
    --image-dir) image_dir="${2:?}"; shift 2 ;;
    --state-dir) state_dir="${2:?}"; shift 2 ;;
    --ssh-port) ssh_port="${2:?}"; shift 2 ;;
    --memory) memory="${2:?}"; shift 2 ;;
    --cpus) cpus="${2:?}"; shift 2 ;;
    --disk-gib) disk_gib="${2:?}"; shift 2 ;;
    --accel) accel="${2:?}"; shift 2 ;;
    --authorized-key) auth_key="${2:?}"; shift 2 ;;
    --link) links+=("${2:?}"); shift 2 ;;
    --timeout) timeout_s="${2:?}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done
[[ -n "$name" && -n "$image_dir" && -n "$state_dir" ]] || usage_error "--name, --image-dir and --state-dir are required"
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,62}$ ]] || die "--name '$name' must be a hostname ([A-Za-z0-9-], max 63)"
valid_uint "$ssh_port" --ssh-port
valid_uint "$memory" --memory
valid_uint "$cpus" --cpus
valid_uint "$timeout_s" --timeout
valid_uint "$disk_gib" --disk-gib
((ssh_port < 65536)) || die "--ssh-port $ssh_port out of range"
((cpus >= 1 && memory >= 256)) || die "--cpus must be >= 1 and --memory >= 256"
case "$accel" in auto | kvm | tcg) ;; *) die "--accel must be auto, kvm or tcg" ;; esac
for l in "${links[@]}"; do
  [[ "$l" =~ ^([0-9]{1,5}):([0-9]{1,5})$ ]] || die "--link '$l' must be LOCALPORT:PEERPORT"
  ((BASH_REMATCH[1] > 0 && BASH_REMATCH[1] < 65536 && BASH_REMATCH[2] > 0 && BASH_REMATCH[2] < 65536)) || die "--link '$l': ports out of range"
done
for f in disk.img vmlinuz initrd.img kernel-release; do
  [[ -f "$image_dir/$f" ]] || die "--image-dir '$image_dir' has no $f (run build-image.sh)"
done
if [[ -n "$auth_key" ]]; then
  [[ -f "$auth_key" ]] || die "--authorized-key '$auth_key' does not exist"
  grep -q -E '^(ssh-|ecdsa-)' "$auth_key" || die "--authorized-key '$auth_key' is not an OpenSSH public key"
fi
need_cmd qemu-system-x86_64 qemu-img ssh-keygen ssh tar timeout shuf sha256sum

# The state holds the host's private key and the seed that carries it: the user's only.
mkdir -p "$state_dir"
chmod 700 "$state_dir"
state_dir="$(cd "$state_dir" && pwd)"
image_dir="$(cd "$image_dir" && pwd)"
touch "$state_dir/.nmtb-lab-host"
pidfile="$state_dir/qemu.pid"
console="$state_dir/console.log"
overlay="$state_dir/overlay.qcow2"
hostkey="$state_dir/ssh_host_ed25519_key"
clientkey="$state_dir/id_ed25519"
known="$state_dir/known_hosts"
qmp="$state_dir/qmp.sock"
release="$(cat "$image_dir/kernel-release")"

running_pid() { # prints the QEMU pid of this state dir if it is alive
  local pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -F -- "$state_dir/" || return 1
  printf '%s' "$pid"
}

if pid="$(running_pid)" && [[ -s "$state_dir/host.json" ]]; then
  log "$name is already running (pid $pid)"
  sed -e 's/"alreadyRunning":false/"alreadyRunning":true/' "$state_dir/host.json"
  exit 0
fi
rm -f "$pidfile" "$state_dir/host.json"

# --- keys (kept across restarts of the same state dir, so the pinned key stays valid) ---
if [[ ! -s "$hostkey" ]]; then
  ssh-keygen -q -t ed25519 -N '' -C "nmtb-lab-host-$name" -f "$hostkey" >/dev/null
fi
if [[ -n "$auth_key" ]]; then
  cp "$auth_key" "$state_dir/authorized_keys"
  private_key=""
else
  if [[ ! -s "$clientkey" ]]; then
    ssh-keygen -q -t ed25519 -N '' -C "nmtb-lab-client-$name" -f "$clientkey" >/dev/null
  fi
  cp "$clientkey.pub" "$state_dir/authorized_keys"
  private_key="$clientkey"
fi
chmod 600 "$hostkey" "$state_dir/authorized_keys"
host_pub="$(cut -d' ' -f1,2 <"$hostkey.pub")"

# --- the seed disk: a plain tar archive used as a raw block device ---
seeddir="$(mktemp -d "$state_dir/.seed.XXXXXX")"
cp "$hostkey" "$seeddir/ssh_host_ed25519_key"
cp "$hostkey.pub" "$seeddir/ssh_host_ed25519_key.pub"
cp "$state_dir/authorized_keys" "$seeddir/authorized_keys"
printf '%s\n' "$name" >"$seeddir/hostname"
# The seed carries the private host key: readable by this user (and so by QEMU) only.
(umask 077 && tar -C "$seeddir" --owner=0 --group=0 -cf "$state_dir/seed.tar" \
  ssh_host_ed25519_key ssh_host_ed25519_key.pub authorized_keys hostname)
chmod 600 "$state_dir/seed.tar"
rm -rf "$seeddir"

# --- the overlay ---
# A size is only ever grown: shrinking would cut off a file system that fills the old size.
disk_bytes=0
if ((disk_gib > 0)); then
  disk_bytes=$((disk_gib * 1024 * 1024 * 1024))
  base_bytes="$(stat -c %s "$image_dir/disk.img")"
  ((disk_bytes >= base_bytes)) ||
    die "--disk-gib $disk_gib is smaller than the base image ($((base_bytes / 1024 / 1024)) MiB): give at least $(((base_bytes + 1073741823) / 1073741824))"
fi
if [[ ! -s "$overlay" ]]; then
  qemu-img create -q -f qcow2 -F raw -b "$image_dir/disk.img" "$overlay" >&2
fi
if ((disk_bytes > 0)); then
  current="$(qemu-img info --output=json "$overlay" | sed -n 's/^ *"virtual-size": \([0-9]*\).*/\1/p' | head -n1)"
  [[ -n $current ]] || die "cannot read the size of $overlay (qemu-img info)"
  if ((current < disk_bytes)); then
    log "growing the root disk to $disk_gib GiB"
    qemu-img resize -q "$overlay" "$disk_bytes" >&2
  fi
fi

# --- accelerator ---
if [[ "$accel" == auto ]]; then
  accel="$("$here/detect-accel.sh" --kernel "$image_dir/vmlinuz" | sed -n 's/.*"accel":"\([a-z]*\)".*/\1/p')"
  [[ "$accel" == kvm || "$accel" == tcg ]] || die "detect-accel.sh gave no answer"
fi
if [[ "$accel" == kvm ]]; then
  accel_args=(-accel kvm -cpu host)
else
  accel_args=(-accel "tcg,thread=multi" -cpu max)
fi

# --- cable NICs ---
link_args=()
links_json=""
i=0
for l in "${links[@]}"; do
  lp="${l%%:*}" pp="${l##*:}"
  h="$(printf '%s/%s' "$name" "$i" | sha256sum)"
  mac="52:54:00:${h:0:2}:${h:2:2}:$(printf '%02x' $((i + 16)))"
  slot="$(printf '0x%x' $((i + 6)))"
  link_args+=(-netdev "socket,id=link$i,udp=127.0.0.1:$pp,localaddr=127.0.0.1:$lp"
    -device "virtio-net-pci,netdev=link$i,mac=$mac,addr=$slot")
  links_json+="${links_json:+,}{\"ifname\":\"eth$((i + 1))\",\"mac\":\"$mac\",\"localPort\":$lp,\"peerPort\":$pp}"
  i=$((i + 1))
done

qmp_args=()
if ((${#qmp} < 100)); then
  rm -f "$qmp"
  qmp_args=(-qmp "unix:$qmp,server=on,wait=off")
fi

port_in_use() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for p in $(shuf -i 20000-59999 -n 50); do
    if ! port_in_use "$p"; then printf '%s' "$p"; return 0; fi
  done
  return 1
}

start="$(now_ms)"
: >"$console"
attempts=1
((ssh_port == 0)) && attempts=5
port="$ssh_port"
launched=0
for ((a = 1; a <= attempts; a++)); do
  if ((ssh_port == 0)); then port="$(pick_port)" || die "no free TCP port found"; fi
  log "booting $name ($accel, ${cpus} vCPU, ${memory} MiB, ssh 127.0.0.1:$port, ${#links[@]} cable NIC(s))"
  if qemu-system-x86_64 -name "nmtb-$name" -daemonize -pidfile "$pidfile" \
    -nodefaults -display none -no-user-config \
    "${accel_args[@]}" -smp "$cpus" -m "$memory" \
    -kernel "$image_dir/vmlinuz" -initrd "$image_dir/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 biosdevname=0 panic=10" \
    -device virtio-net-pci,netdev=mgmt,addr=0x3 \
    -netdev "user,id=mgmt,hostname=$name,hostfwd=tcp:127.0.0.1:$port-:22" \
    -drive "file=$overlay,format=qcow2,if=none,id=root,cache=unsafe,discard=unmap" \
    -device virtio-blk-pci,drive=root,addr=0x4 \
    -drive "file=$state_dir/seed.tar,format=raw,if=none,id=seed,readonly=on" \
    -device virtio-blk-pci,drive=seed,serial=nmtb-seed,addr=0x5 \
    "${link_args[@]}" "${qmp_args[@]}" \
    -serial "file:$console" 2>"$state_dir/qemu.err"; then
    launched=1
    break
  fi
  if ((ssh_port == 0)) && grep -q -i 'forwarding' "$state_dir/qemu.err"; then
    log "port $port was taken meanwhile; retrying"
    continue
  fi
  cat "$state_dir/qemu.err" >&2
  die "qemu failed to start $name"
done
((launched)) || die "qemu failed to start $name (no free port after $attempts attempts)"
pid="$(tr -dc '0-9' <"$pidfile")"

kill_vm() {
  if [[ -n "${pid:-}" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    sleep 1
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
fail() {
  log "error: $*"
  log "--- last 40 lines of $console ---"
  tail -n 40 "$console" >&2 || true
  kill_vm
  exit 1
}
trap 'fail "interrupted"' INT TERM

printf '[127.0.0.1]:%s %s\n' "$port" "$host_pub" >"$known"
ssh_opts=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$known"
  -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o LogLevel=ERROR -p "$port")
# shellcheck disable=SC2016 # $1 expands in the child bash
banner() { timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; head -c 4 <&3' _ "$1" 2>/dev/null; }

deadline=$(($(date +%s) + timeout_s))
log "waiting for SSH on 127.0.0.1:$port (up to $timeout_s s)"
while :; do
  kill -0 "$pid" 2>/dev/null || fail "qemu exited while $name was booting"
  if [[ "$(banner "$port" || true)" == "SSH-" ]]; then
    if [[ -z "$private_key" ]]; then break; fi
    if timeout 20 ssh "${ssh_opts[@]}" -i "$private_key" root@127.0.0.1 true </dev/null 2>"$state_dir/ssh.err"; then
      break
    fi
  fi
  (($(date +%s) < deadline)) || fail "$name: no SSH on 127.0.0.1:$port within $timeout_s s$( [[ -s $state_dir/ssh.err ]] && printf ' (ssh: %s)' "$(tail -n1 "$state_dir/ssh.err")")"
  sleep 1
done
# The root file system is the whole disk (no partition table): it grows in place, online.
if ((disk_bytes > 0)); then
  if [[ -n "$private_key" ]]; then
    timeout 120 ssh "${ssh_opts[@]}" -i "$private_key" root@127.0.0.1 resize2fs /dev/vda </dev/null >/dev/null 2>"$state_dir/resize.err" ||
      fail "resize2fs /dev/vda failed: $(tail -n 3 "$state_dir/resize.err")"
  else
    log "root file system not grown: with --authorized-key there is no client key here to run resize2fs"
  fi
fi
trap - INT TERM
secs="$((($(now_ms) - start) / 1000))"
log "$name is up: ssh root@127.0.0.1 -p $port after $secs s"

json="$(printf '{"name":%s,"pid":%s,"sshPort":%s,"address":"127.0.0.1","user":"root","hostKey":%s,"privateKeyPath":%s,"knownHosts":%s,"consoleLog":%s,"overlay":%s,"stateDir":%s,"accel":%s,"kernelRelease":%s,"links":[%s],"bootSeconds":%s,"alreadyRunning":false}' \
  "$(json_str "$name")" "$pid" "$port" "$(json_str "$host_pub")" \
  "$(if [[ -n "$private_key" ]]; then json_str "$private_key"; else printf null; fi)" \
  "$(json_str "$known")" "$(json_str "$console")" "$(json_str "$overlay")" "$(json_str "$state_dir")" \
  "$(json_str "$accel")" "$(json_str "$release")" "$links_json" "$secs")"
printf '%s\n' "$json" >"$state_dir/host.json"
printf '%s\n' "$json"

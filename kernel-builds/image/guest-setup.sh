#!/usr/bin/env bash
# Runs INSIDE a VM booted from the lab's own image, as root, at every boot: the image's
# nmtb-seed service extracts the VM's seed (make-seed.sh --format lab) and runs this copy of it
# as `bash setup SEED_DIR`. The guest has no internet, so everything comes from the seed:
#
#   user, user_authorized_keys  the login user (created once, home, bash) with password-less
#                           sudo and the key, as cloud-init's seeds give it (`users:` with
#                           NOPASSWD:ALL); root gets no key, as with cloud-init's disable_root
#   netmap-build.tgz(.sha256)  optional: native-build.sh's netmap export archive, built on the
#                           controller for this image's kernel. Its top-level netmap.ko (core and
#                           ptnet guest driver) is installed and loaded, the parameters in
#                           netmap.params are made persistent, and its tools (build-apps/T/T)
#                           go to /opt/netmap-testbed/bin, where the playbook runner calls them.
#
# Idempotent: what is already in place is left alone (no depmod, no module reload), so a reboot
# costs seconds. A build for another kernel, or an archive that does not match its digest, is
# refused before anything of it is installed (exit 1; the user is still made, so one can log in
# and read why: journalctl -u nmtb-seed, or the console log).
set -euo pipefail

prog=guest-setup
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$prog" "$*" >&2
  exit 1
}

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  printf 'usage: guest-setup.sh SEED_DIR   (as root, inside the guest; see the header)\n' >&2
  exit 2
fi
seed="$1"
[[ -d $seed ]] || die "$seed is not a directory"
[[ $(id -u) == 0 ]] || die "run as root"

bin_dir=/opt/netmap-testbed/bin
sudoers=/etc/sudoers.d/90-netmap-testbed
modprobe_conf=/etc/modprobe.d/netmap-testbed.conf
modules_load_conf=/etc/modules-load.d/netmap-testbed.conf
profile_script=/etc/profile.d/netmap-testbed.sh
changed=()
changed_text() { if ((${#changed[@]})); then printf '%s' "${changed[*]}"; else printf 'nothing'; fi; }

# put_file PATH MODE CONTENT: writes PATH only when its content or mode differ.
put_file() {
  local path="$1" mode="$2" content="$3" tmp
  if [[ -f $path ]] && [[ $(stat -c %a "$path") == "${mode#0}" ]] &&
    cmp -s "$path" <(printf '%s' "$content"); then
    return 0
  fi
  mkdir -p "$(dirname "$path")"
  tmp="$(mktemp "$path.XXXXXX")"
  printf '%s' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  changed+=("$path")
}

# ---------------------------------------------------------------- the user
user=netmap
if [[ -s $seed/user ]]; then user="$(head -n1 "$seed/user")"; fi
[[ $user =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "the seed's user '$user' is not a Linux user name"
if ! getent passwd "$user" >/dev/null; then
  # "*": no password can log in, yet the account is not locked ("!"), which sshd without PAM
  # would refuse even for a key.
  useradd --create-home --shell /bin/bash --comment netmap-testbed --password '*' "$user"
  changed+=("user $user")
fi
home="$(getent passwd "$user" | cut -d: -f6)"
group="$(id -gn "$user")"
[[ -d $home ]] || install -d -m 0755 -o "$user" -g "$group" "$home"
install -d -m 0700 -o "$user" -g "$group" "$home/.ssh"
if [[ -s $seed/user_authorized_keys ]] && ! cmp -s "$seed/user_authorized_keys" "$home/.ssh/authorized_keys"; then
  install -m 0600 -o "$user" -g "$group" "$seed/user_authorized_keys" "$home/.ssh/authorized_keys"
  changed+=("$home/.ssh/authorized_keys")
fi

rule="$user ALL=(ALL) NOPASSWD:ALL"$'\n'
if command -v visudo >/dev/null 2>&1; then
  check="$(mktemp)"
  printf '%s' "$rule" >"$check"
  chmod 0440 "$check"
  visudo -cqf "$check" >/dev/null || die "visudo refuses the rule '${rule%$'\n'}'"
  rm -f "$check"
else
  log "warning: sudo is not installed in this image: $sudoers is written but nothing reads it"
fi
put_file "$sudoers" 0440 "$rule"

# ---------------------------------------------------------------- netmap
archive="$seed/netmap-build.tgz"
if [[ ! -f $archive ]]; then
  printf '%s: ok: user %s; no netmap build in the seed; changed: %s\n' "$prog" "$user" "$(changed_text)"
  exit 0
fi

[[ -s $archive.sha256 ]] || die "the seed has netmap-build.tgz but no netmap-build.tgz.sha256: nothing installed"
read -r want _ <"$archive.sha256" || true
[[ ${want:-} =~ ^[0-9a-f]{64}$ ]] || die "netmap-build.tgz.sha256 holds no sha256: nothing installed"
have="$(sha256sum "$archive" | cut -d' ' -f1)"
[[ $have == "$want" ]] ||
  die "netmap-build.tgz has sha256 $have, not $want as the seed says (a damaged seed): nothing installed"

params=()
if [[ -f $seed/netmap.params ]]; then
  while IFS= read -r line || [[ -n $line ]]; do
    [[ -n $line ]] || continue
    [[ $line =~ ^[a-z_][a-z0-9_]*=[A-Za-z0-9_.:-]+$ ]] ||
      die "netmap.params: '$line' is not NAME=VALUE: nothing installed"
    params+=("$line")
  done <"$seed/netmap.params"
fi

tmp="$(mktemp -d)"
trap 'rm -rf -- "$tmp"' EXIT
# Only the module and the tools: the build dir also holds objects and configure's test modules
# (netmap-tmpdir/, which has netmap.ko files of its own).
wanted=()
while IFS= read -r member; do
  if [[ $member =~ ^[^/]+/netmap\.ko$ ]]; then
    wanted+=("$member")
  elif [[ $member =~ ^[^/]+/build-apps/([^/]+)/([^/]+)$ && ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]]; then
    wanted+=("$member")
  fi
done < <(tar -tzf "$archive")
mapfile -t kos < <(printf '%s\n' "${wanted[@]}" | grep '/netmap\.ko$' || true)
((${#kos[@]} == 1)) ||
  die "netmap-build.tgz holds ${#kos[@]} top-level */netmap.ko, not one: not a netmap export archive (native-build.sh netmap); nothing installed"
printf '%s\0' "${wanted[@]}" | tar -xzf "$archive" -C "$tmp" --no-same-owner --null --no-wildcards -T -
ko="$tmp/${kos[0]}"

release="$(uname -r)"
vermagic="$(modinfo -F vermagic "$ko")" || die "modinfo cannot read ${kos[0]}: nothing installed"
built_for="${vermagic%% *}"
if [[ $built_for != "$release" ]]; then
  die "netmap build is for kernel $built_for, this guest runs $release: build netmap for $release (native-build.sh netmap on this image's disk) or boot the image it was built for; nothing installed"
fi

dest="/lib/modules/$release/extra/netmap.ko"
ko_changed=0
if ! cmp -s "$ko" "$dest"; then
  install -D -m 0644 "$ko" "$dest"
  changed+=("$dest")
  ko_changed=1
fi
if ((ko_changed)) || [[ $(modinfo -n netmap 2>/dev/null || true) != "$dest" ]]; then
  depmod -a
  [[ $(modinfo -n netmap 2>/dev/null || true) == "$dest" ]] ||
    die "after depmod, modprobe finds netmap at '$(modinfo -n netmap 2>/dev/null || true)', not $dest: another netmap.ko takes precedence"
fi

if ((${#params[@]})); then
  put_file "$modprobe_conf" 0644 "# netmap-testbed (guest-setup.sh): netmap's parameters from the VM's seed"$'\n'"options netmap ${params[*]}"$'\n'
elif [[ -e $modprobe_conf ]]; then
  rm -f "$modprobe_conf"
  changed+=("$modprobe_conf (removed)")
fi
put_file "$modules_load_conf" 0644 $'netmap\n'

# A loaded netmap stays when it is this module with these parameters (at a reboot
# systemd-modules-load loads the installed one before this service runs); else it is reloaded:
# nothing uses it this early.
reload=0
if [[ -d /sys/module/netmap ]]; then
  reload=$ko_changed
  loaded_src="$(cat /sys/module/netmap/srcversion 2>/dev/null || true)"
  file_src="$(modinfo -F srcversion "$dest" 2>/dev/null || true)"
  if [[ -n $loaded_src && -n $file_src && $loaded_src != "$file_src" ]]; then reload=1; fi
  for p in "${params[@]}"; do
    if [[ $(cat "/sys/module/netmap/parameters/${p%%=*}" 2>/dev/null || true) != "${p#*=}" ]]; then reload=1; fi
  done
  if ((reload)); then
    modprobe -r netmap || die "netmap is loaded with other parameters or another build and cannot be unloaded (in use?)"
  fi
fi
if [[ ! -d /sys/module/netmap ]]; then
  modprobe netmap
  changed+=("netmap loaded")
fi
for p in "${params[@]}"; do
  now="$(cat "/sys/module/netmap/parameters/${p%%=*}" 2>/dev/null || printf 'unreadable')"
  [[ $now == "${p#*=}" ]] || log "warning: netmap's ${p%%=*} reads '$now', not '${p#*=}'"
done

tools=()
for dir in "$tmp"/*/build-apps/*/; do
  name="$(basename "$dir")"
  [[ -f $dir$name && -x $dir$name ]] || continue
  tools+=("$name")
  if ! cmp -s "$dir$name" "$bin_dir/$name"; then
    install -D -m 0755 "$dir$name" "$bin_dir/$name"
    changed+=("$bin_dir/$name")
  fi
done
# shellcheck disable=SC2016 # the profile script expands $PATH at login, not here
put_file "$profile_script" 0644 '# netmap-testbed (guest-setup.sh): netmap'"'"'s tools
case ":$PATH:" in
  *:/opt/netmap-testbed/bin:*) ;;
  *) PATH="$PATH:/opt/netmap-testbed/bin" && export PATH ;;
esac
'

with=""
if ((${#params[@]})); then with=" with ${params[*]}"; fi
printf '%s: ok: user %s; netmap for %s loaded%s; %d tools in %s (%s); changed: %s\n' "$prog" "$user" \
  "$release" "$with" "${#tools[@]}" "$bin_dir" "${tools[*]}" "$(changed_text)"

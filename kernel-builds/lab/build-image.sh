#!/usr/bin/env bash
# Builds (or reuses from the cache) the local lab's Debian base image: a debootstrap'ed
# bookworm root filesystem packed into an ext4 disk image with `mkfs.ext4 -d` (no loop mount),
# plus the kernel and initrd extracted next to it for `qemu -kernel/-initrd`.
# Needs root (debootstrap), debootstrap, e2fsprogs (mkfs.ext4 >= 1.43), flock, sha256sum.
set -euo pipefail
NMTB_LAB_PROG="build-image.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=kernel-builds/lab/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: build-image.sh [--cache-dir DIR] [--mirror URL] [--suite SUITE] [--size SIZE]
                      [--extra-package PKG]... [--print-key] [-h]
  --cache-dir DIR   image cache (default $NMTB_IMAGE_CACHE or
                    ${XDG_CACHE_HOME:-$HOME/.cache}/netmap-testbed/images)
  --mirror URL      Debian mirror (default $NMTB_DEBIAN_MIRROR or http://deb.debian.org/debian)
  --suite SUITE     Debian suite (default bookworm)
  --size SIZE       disk image size for mkfs.ext4 (default 4G)
  --extra-package P add a package to the recipe (repeatable; changes the cache key)
  --print-key       only print {"key":...} for the recipe, build nothing
stdout: one JSON object {key, dir, disk, diskFormat, kernel, initrd, kernelRelease, cached, seconds}
USAGE
}

cache_dir="${NMTB_IMAGE_CACHE:-$(nmtb_cache_root)/images}"
mirror="${NMTB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite="bookworm"
size="4G"
print_key=0
extra=()
while (($#)); do
  case "$1" in
    --cache-dir) cache_dir="${2:?}"; shift 2 ;;
    --mirror) mirror="${2:?}"; shift 2 ;;
    --suite) suite="${2:?}"; shift 2 ;;
    --size) size="${2:?}"; shift 2 ;;
    --extra-package) extra+=("${2:?}"); shift 2 ;;
    --print-key) print_key=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done
[[ "$mirror" =~ ^(https?|file)://[A-Za-z0-9._~:/%@+-]+$ ]] || die "--mirror '$mirror' is not an http(s)/file URL"
[[ "$suite" =~ ^[a-z]+$ ]] || die "--suite '$suite' is not a suite name"
[[ "$size" =~ ^[0-9]+[KMG]$ ]] || die "--size '$size' must look like 4G"
for p in "${extra[@]}"; do
  [[ "$p" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "--extra-package '$p' is not a Debian package name"
done

# The recipe. Everything that changes the image is part of the cache key.
# Everything the deploy steps would otherwise apt-get on a lab host is here, so a lab deploys
# without a Debian mirror and without `apt-get update` (minutes under TCG): netmap's prepare
# (patch), the VM steps (genisoimage, qemu-utils, python3 for vm.sh's QMP) and the runtime
# libraries of an imported ptnet QEMU (what `qemu/build.sh export` lists as runtimePackages).
# sudo and pciutils: a VM booted from this image logs its user in with password-less sudo, as
# cloud-init's guests do (make-seed.sh --format lab, guest-setup.sh), and `lspci` shows its ptnet NICs.
packages=(
  linux-image-amd64 linux-headers-amd64
  gcc make libc6-dev pkg-config git unzip wget ca-certificates patch
  openssh-server sudo pciutils systemd systemd-sysv dbus udev kmod iproute2 iputils-ping ethtool procps
  genisoimage qemu-utils python3 libglib2.0-0 libpixman-1-0 libfdt1
  "${extra[@]}"
)
image_files=(nmtb-seed nmtb-seed.service 10-mgmt.network sshd-nmtb.conf)
cmdline="root=/dev/vda rw console=ttyS0 net.ifnames=0 biosdevname=0"

recipe_text() {
  printf 'suite=%s\nmirror=%s\nsize=%s\npackages=%s\n' "$suite" "$mirror" "$size" "${packages[*]}"
  cat "$here/build-image.sh"
  local f
  for f in "${image_files[@]}"; do
    printf '== %s\n' "$f"
    cat "$here/image/$f"
  done
}
key="$(recipe_text | sha256sum | cut -c1-32)"
if ((print_key)); then
  printf '{"key":%s}\n' "$(json_str "$key")"
  exit 0
fi

entry="$cache_dir/$key"
emit() { # emit CACHED SECONDS
  local rel
  rel="$(cat "$entry/kernel-release")"
  printf '{"key":%s,"dir":%s,"disk":%s,"diskFormat":"raw","kernel":%s,"initrd":%s,"kernelRelease":%s,"cmdline":%s,"cached":%s,"seconds":%s}\n' \
    "$(json_str "$key")" "$(json_str "$entry")" "$(json_str "$entry/disk.img")" \
    "$(json_str "$entry/vmlinuz")" "$(json_str "$entry/initrd.img")" "$(json_str "$rel")" \
    "$(json_str "$cmdline")" "$1" "$2"
}
complete() { [[ -f "$entry/recipe.json" && -f "$entry/disk.img" && -f "$entry/vmlinuz" && -f "$entry/initrd.img" && -f "$entry/kernel-release" ]]; }

mkdir -p "$cache_dir"
if complete; then
  log "reusing cached image $entry"
  emit true 0
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "building the base image needs root (debootstrap); a cached image needs no root"
need_cmd debootstrap mkfs.ext4 flock sha256sum

# One builder per key; a second caller waits and then reuses the result.
exec 9>"$cache_dir/.lock-$key"
log "waiting for the build lock of $key"
flock 9
if complete; then
  log "built meanwhile by another process: $entry"
  emit true 0
  exit 0
fi

start="$(now_ms)"
tmp="$(mktemp -d "$cache_dir/.build-$key.XXXXXX")"
rootfs="$tmp/rootfs"
cleanup() {
  local rc=$?
  # debootstrap may leave proc/sys mounted inside the chroot when interrupted.
  local m
  for m in "$rootfs/proc" "$rootfs/sys" "$rootfs/dev/pts" "$rootfs/dev"; do
    if mountpoint -q "$m" 2>/dev/null; then umount -l "$m" || true; fi
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

include="$(IFS=,; printf '%s' "${packages[*]}")"
mkdir -p "$cache_dir/debs"
log "debootstrap $suite from $mirror (minbase + ${#packages[@]} packages; ~90 s on 2 cores)"
DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase --include="$include" \
  --cache-dir="$cache_dir/debs" "$suite" "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
  tail -n 40 "$tmp/debootstrap.log" >&2
  die "debootstrap failed (log above)"
}
log "debootstrap done in $((($(now_ms) - start) / 1000)) s; configuring"

# --- configure the root filesystem (no chroot needed beyond what debootstrap did) ---
printf 'nmtb-lab\n' >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tnmtb-lab\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0\t1\n' >"$rootfs/etc/fstab"
printf 'deb %s %s main\n' "$mirror" "$suite" >"$rootfs/etc/apt/sources.list"
# QEMU user networking's DNS forwarder; no resolver daemon in the image.
rm -f "$rootfs/etc/resolv.conf"
printf 'nameserver 10.0.2.3\n' >"$rootfs/etc/resolv.conf"
# A fresh machine-id per booted host.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
# No baked-in host keys: every lab host gets its own, pinned before boot (nmtb-seed).
rm -f "$rootfs"/etc/ssh/ssh_host_*
install -m 0755 "$here/image/nmtb-seed" "$rootfs/usr/local/sbin/nmtb-seed"
install -m 0644 "$here/image/nmtb-seed.service" "$rootfs/etc/systemd/system/nmtb-seed.service"
install -m 0644 "$here/image/sshd-nmtb.conf" "$rootfs/etc/ssh/sshd_config.d/nmtb.conf"
install -m 0644 "$here/image/10-mgmt.network" "$rootfs/etc/systemd/network/10-mgmt.network"
install -d -m 0700 "$rootfs/root/.ssh"
sysd="$rootfs/etc/systemd/system"
mkdir -p "$sysd/multi-user.target.wants" "$sysd/ssh.service.wants" "$sysd/sockets.target.wants"
ln -sf /etc/systemd/system/nmtb-seed.service "$sysd/multi-user.target.wants/nmtb-seed.service"
ln -sf /etc/systemd/system/nmtb-seed.service "$sysd/ssh.service.wants/nmtb-seed.service"
ln -sf /lib/systemd/system/systemd-networkd.service "$sysd/multi-user.target.wants/systemd-networkd.service"
ln -sf /lib/systemd/system/systemd-networkd.socket "$sysd/sockets.target.wants/systemd-networkd.socket"
# Nothing waits for "online"; no periodic jobs that would compete with tests for 2 cores.
for u in systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer getty@tty1.service; do
  ln -sf /dev/null "$sysd/$u"
done
# Keep the image small.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*_Packages \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* 2>/dev/null || true

vmlinuz="$(find "$rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)"
[[ -n "$vmlinuz" ]] || die "no kernel in $rootfs/boot"
release="${vmlinuz##*/vmlinuz-}"
[[ -f "$rootfs/boot/initrd.img-$release" ]] || die "no initrd for $release"
[[ -d "$rootfs/usr/src/linux-headers-$release" ]] || die "no headers for $release"

out="$tmp/out"
mkdir -p "$out"
install -m 0644 "$vmlinuz" "$out/vmlinuz"
install -m 0644 "$rootfs/boot/initrd.img-$release" "$out/initrd.img"
printf '%s\n' "$release" >"$out/kernel-release"
log "mkfs.ext4 -d (size $size)"
mkfs.ext4 -q -F -L nmtb-root -d "$rootfs" "$out/disk.img" "$size" >&2
chmod 0644 "$out/disk.img"
seconds="$((($(now_ms) - start) / 1000))"
printf '{"key":%s,"suite":%s,"mirror":%s,"size":%s,"packages":[%s],"kernelRelease":%s,"cmdline":%s,"builtAt":%s,"buildSeconds":%s}\n' \
  "$(json_str "$key")" "$(json_str "$suite")" "$(json_str "$mirror")" "$(json_str "$size")" \
  "$(for p in "${packages[@]}"; do printf '%s,' "$(json_str "$p")"; done | sed 's/,$//')" \
  "$(json_str "$release")" "$(json_str "$cmdline")" "$(json_str "$(date -u +%FT%TZ)")" "$seconds" >"$out/recipe.json"

# Atomic publish: the entry appears complete or not at all.
rm -rf "$entry"
mv "$out" "$entry"
log "built $entry in $seconds s (kernel $release)"
emit false "$seconds"

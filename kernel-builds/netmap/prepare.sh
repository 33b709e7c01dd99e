#!/usr/bin/env bash
# Prepares a host for netmap builds: checks the distribution and kernel, installs the build
# dependencies and the headers (and, on request, the sources) of the running kernel, and records
# the BASELINE (loaded modules, each interface's driver) that teardown.sh restores and checks.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: prepare.sh [--install-deps 1|0] [--need-kernel-sources 1|0] [--record-baseline 1|0]
                  [--vm-tools 1|0]

  --install-deps 1|0          install missing build dependencies with apt-get (default 1)
  --need-kernel-sources 1|0   also provide full kernel sources, needed to patch in-tree
                              drivers (virtio_net.c, veth.c, e1000, ...) (default 0)
  --record-baseline 1|0       record the baseline once; never overwritten (default 1)
  --vm-tools 1|0              also what the VM steps run on this host: make-seed.sh's ISO tool
                              (genisoimage), qemu-img (qemu-utils), python3 (vm.sh's QMP) and
                              taskset (util-linux) (default 0)

environment: NMTB_STATE_DIR, NMTB_CACHE_DIR
stdout: {"distro","version","kernelRelease","headers","headersDir","kernelSources",
         "installedPackages","baseline":{"path","created","modules","nics":[{"name","module"}]}}
USAGE
}

install_deps=1
need_sources=0
record_baseline=1
vm_tools=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --install-deps) install_deps="$(nmtb_flag_value "$@")"; shift 2 ;;
    --need-kernel-sources) need_sources="$(nmtb_flag_value "$@")"; shift 2 ;;
    --record-baseline) record_baseline="$(nmtb_flag_value "$@")"; shift 2 ;;
    --vm-tools) vm_tools="$(nmtb_flag_value "$@")"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) nmtb_usage_error "unknown argument: $1" ;;
  esac
done
nmtb_require_bool01 "$install_deps" --install-deps
nmtb_require_bool01 "$need_sources" --need-kernel-sources
nmtb_require_bool01 "$record_baseline" --record-baseline
nmtb_require_bool01 "$vm_tools" --vm-tools
nmtb_require_root
nmtb_lock

# ---------------------------------------------------------------- distribution
[[ -r /etc/os-release ]] || nmtb_die "/etc/os-release is missing: cannot tell the distribution"
distro="$(. /etc/os-release && printf '%s' "${ID:-unknown}")"
distro_like="$(. /etc/os-release && printf '%s' "${ID_LIKE:-}")"
distro_version="$(. /etc/os-release && printf '%s' "${VERSION_ID:-}")"
case " $distro $distro_like " in
  *" debian "* | *" ubuntu "*) family=debian ;;
  *" rhel "* | *" fedora "* | *" centos "*)
    nmtb_die "$distro $distro_version (RHEL family) is not supported yet; on such hosts install kernel-devel-$(uname -r), gcc, make, git, unzip, wget and pkgconf by hand and expect in-tree driver patches to fail (netmap's patches target vanilla kernels)" ;;
  *) nmtb_die "distribution '$distro' is not supported (Debian and Ubuntu are)" ;;
esac
release="$(uname -r)"
nmtb_require_release "$release"
nmtb_log "$distro $distro_version ($family), kernel $release"

# ---------------------------------------------------------------- packages
installed_pkgs=()
pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}
apt_updated=0
apt_install() {
  if ((apt_updated == 0)); then
    nmtb_log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || nmtb_die "apt-get update failed"
    apt_updated=1
  fi
  nmtb_log "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
    nmtb_die "apt-get install $* failed"
  installed_pkgs+=("$@")
}

headers_dir="/lib/modules/$release/build"
if ((install_deps)); then
  missing=()
  for pkg in gcc make libc6-dev git unzip wget pkg-config kmod iproute2 patch; do
    pkg_installed "$pkg" || missing+=("$pkg")
  done
  if [[ ! -e "$headers_dir/.config" ]] && ! pkg_installed "linux-headers-$release"; then
    missing+=("linux-headers-$release")
  fi
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
fi
# The VM steps' tools, by the command each step looks for (package: command).
if ((vm_tools)); then
  missing=()
  for pair in genisoimage:genisoimage qemu-utils:qemu-img python3:python3 util-linux:taskset; do
    command -v "${pair#*:}" >/dev/null 2>&1 || missing+=("${pair%%:*}")
  done
  if ((${#missing[@]})); then
    ((install_deps)) || nmtb_die "VMs on this host need ${missing[*]}: install them, or let prepare.sh do it (--install-deps 1)"
    apt_install "${missing[@]}"
  fi
fi

headers=0
[[ -e "$headers_dir/.config" ]] && headers=1
((headers)) || nmtb_die "no headers for the running kernel at $headers_dir (install linux-headers-$release, or boot a kernel whose headers are packaged)"

# Full sources (in-tree driver patching): the distribution's linux-source package, unpacked once
# into the cache. Its version is the distribution's, the closest match to the running kernel.
kernel_sources=""
if ((need_sources)); then
  series="$(printf '%s' "$release" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')"
  [[ -n $series ]] || nmtb_die "cannot tell the kernel series of $release"
  tarball="$(find /usr/src -maxdepth 2 -name "linux-source-$series*.tar.*" 2>/dev/null | sort | tail -n1)"
  if [[ -z $tarball ]] && ((install_deps)); then
    if apt-cache show "linux-source-$series" >/dev/null 2>&1; then apt_install "linux-source-$series" xz-utils; else apt_install linux-source xz-utils; fi
    tarball="$(find /usr/src -maxdepth 2 -name "linux-source-$series*.tar.*" 2>/dev/null | sort | tail -n1)"
  fi
  [[ -n $tarball ]] || nmtb_die "no linux-source tarball for kernel series $series under /usr/src (install linux-source-$series)"
  name="$(basename "$tarball")"
  name="${name%%.tar.*}"
  kernel_sources="$NMTB_CACHE_DIR/kernel-sources/$name"
  if [[ ! -e "$kernel_sources/.nmtb-unpacked" ]]; then
    nmtb_log "unpacking $tarball into $kernel_sources"
    rm -rf "$kernel_sources.tmp"
    mkdir -p "$kernel_sources.tmp"
    tar -xf "$tarball" -C "$kernel_sources.tmp" --strip-components=1
    touch "$kernel_sources.tmp/.nmtb-unpacked"
    rm -rf "$kernel_sources"
    mv "$kernel_sources.tmp" "$kernel_sources"
  fi
fi

# ---------------------------------------------------------------- baseline
state="$NMTB_STATE_DIR/netmap"
baseline_json="$state/baseline.json"
created=0
if ((record_baseline)) && [[ ! -f $baseline_json ]]; then
  mkdir -p "$state"
  nmtb_loaded_modules >"$state/baseline.modules.tmp"
  : >"$state/baseline.nics.tmp"
  for dev in /sys/class/net/*; do
    ifname="$(basename "$dev")"
    [[ $ifname == lo ]] && continue
    [[ $ifname =~ ^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$ ]] || continue
    module="$(nmtb_iface_module "$ifname")"
    stock=""
    if [[ -n $module ]]; then stock="$(nmtb_stock_module_path "$module" "$release")"; fi
    printf '%s\t%s\t%s\n' "$ifname" "$module" "$stock" >>"$state/baseline.nics.tmp"
  done
  printf '%s\n' "$release" >"$state/baseline.release.tmp"
  {
    printf '{"createdAt":%s,"kernelRelease":%s,"modules":' "$(nmtb_json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$(nmtb_json_str "$release")"
    mapfile -t mods <"$state/baseline.modules.tmp"
    nmtb_json_array "${mods[@]}"
    printf ',"nics":['
    first=1
    while IFS=$'\t' read -r ifname module stock; do
      ((first)) || printf ','
      first=0
      printf '{"name":%s,"module":%s,"stockPath":%s}' "$(nmtb_json_str "$ifname")" "$(nmtb_json_str "$module")" "$(nmtb_json_str "$stock")"
    done <"$state/baseline.nics.tmp"
    printf ']}\n'
  } >"$baseline_json.tmp"
  mv -f "$state/baseline.modules.tmp" "$state/baseline.modules"
  mv -f "$state/baseline.nics.tmp" "$state/baseline.nics"
  mv -f "$state/baseline.release.tmp" "$state/baseline.release"
  mv -f "$baseline_json.tmp" "$baseline_json"
  created=1
  nmtb_log "baseline recorded in $baseline_json"
elif [[ -f $baseline_json ]]; then
  nmtb_log "baseline already recorded ($baseline_json): kept"
fi

nics_json="[]"
module_count=0
if [[ -f "$state/baseline.nics" ]]; then
  nics_json="$(
    printf '['
    first=1
    while IFS=$'\t' read -r ifname module _; do
      ((first)) || printf ','
      first=0
      printf '{"name":%s,"module":%s}' "$(nmtb_json_str "$ifname")" "$(nmtb_json_str "$module")"
    done <"$state/baseline.nics"
    printf ']'
  )"
  module_count="$(wc -l <"$state/baseline.modules")"
fi

printf '{"distro":%s,"version":%s,"kernelRelease":%s,"headers":%s,"headersDir":%s,"kernelSources":%s,"installedPackages":%s,"baseline":{"path":%s,"created":%s,"modules":%s,"nics":%s}}\n' \
  "$(nmtb_json_str "$distro")" "$(nmtb_json_str "$distro_version")" "$(nmtb_json_str "$release")" \
  "$(nmtb_json_bool "$headers")" "$(nmtb_json_str "$headers_dir")" \
  "$(if [[ -n $kernel_sources ]]; then nmtb_json_str "$kernel_sources"; else printf null; fi)" \
  "$(nmtb_json_array "${installed_pkgs[@]}")" "$(nmtb_json_str "$baseline_json")" "$(nmtb_json_bool "$created")" \
  "$module_count" "$nics_json"

#!/usr/bin/env bash
# Writes the seed of one guest: its hostname, the testbed's SSH key for a login user with
# password-less sudo, and netmap.
#
# For a downloaded cloud image (--format auto|iso|vfat): a cloud-init NoCloud seed (a volume
# labelled "cidata" holding user-data and meta-data); when a netmap source is given, a first-boot
# job builds netmap (with ptnet guest support, no NIC drivers) and loads it with
# ptnet_vnet_hdr=0 so the guest's ptnet NICs carry plain Ethernet frames (NFV use). The guest
# needs internet for that.
#
# For the lab's own image (--format lab, kernel-builds/lab/build-image.sh): a plain tar archive,
# used raw as a virtio disk with serial nmtb-seed, which the image's nmtb-seed service reads at
# every boot. It holds the guest-side program guest-setup.sh (as `setup`) and its inputs: the
# user, the key, and optionally netmap already built for the image's kernel on the controller
# (native-build.sh netmap's archive) with netmap's parameters. The guest needs no internet.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/vm.sh
. "$here/../lib/vm.sh"

usage() {
  cat <<'EOF'
usage: make-seed.sh --out FILE --hostname NAME --ssh-key "ssh-ed25519 AAAA… comment"
         [--user NAME] [--netmap-source-git URL --ref REF] [--netmap-configure-arg ARG]...
         [--user-data-extra FILE] [--format auto|iso|vfat] [--emit-dir DIR]
       make-seed.sh --format lab --out FILE --hostname NAME --ssh-key KEY [--user NAME]
         [--netmap-archive FILE [--netmap-param NAME=VALUE]...] [--emit-dir DIR]

  --out FILE               seed image to write (atomically; unchanged content = no rewrite)
  --hostname NAME          guest hostname (lower-case letters, digits, "-"; at most 63)
  --ssh-key KEY            public key allowed to log in as --user (one line)
  --user NAME              login user with password-less sudo (default: netmap)
  --netmap-source-git URL  netmap repository the guest clones and builds at --ref
  --ref REF                branch, tag or commit of netmap
  --netmap-configure-arg A extra netmap configure option for the guest build (repeatable)
  --user-data-extra FILE   more user-data (a #cloud-config or a #! script), added as a second
                           MIME part after ours (a cloud-config part replaces same-named keys
                           unless it sets merge_how)
  --format F               iso (genisoimage/xorriso), vfat (mkfs.vfat + mcopy) or auto
                           (default: cloud-localds, else iso, else vfat): cloud-init seeds;
                           lab: a tar archive for the lab's own image (see below)
  --emit-dir DIR           also write the seed's files there (for inspection)

--format lab only (guests of kernel-builds/lab/build-image.sh's image, booted with the seed as
a raw virtio disk with serial nmtb-seed; guest-setup.sh installs what follows at every boot):
  --netmap-archive FILE    native-build.sh netmap's archive (<buildKey>.tgz) for the image's
                           kernel: the guest installs and loads its netmap.ko and installs its
                           tools in /opt/netmap-testbed/bin (a build for another kernel is refused)
  --netmap-param N=V       a netmap module parameter, e.g. ptnet_vnet_hdr=0 (repeatable; with
                           --netmap-archive; N: [a-z_][a-z0-9_]*, V: letters, digits, _ . : -)

Needs (cloud-init formats) one of: cloud-localds (cloud-image-utils), genisoimage, xorriso, or
dosfstools + mtools; (lab) tar.
stdout: one JSON object {"path","format","tool","instanceId","contentSha256","userDataSha256",
"changed"}; contentSha256 is the digest of what the seed holds (lab: of the archive itself),
userDataSha256 that of the cloud-init user-data (null for lab).
EOF
}

out="" hostname="" ssh_key="" user=netmap nm_git="" nm_ref="" extra="" format=auto emit_dir=""
nm_archive=""
nm_args=() nm_params=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$(nmtb_flag_value "$@")" && shift 2 ;;
    --hostname) hostname="$(nmtb_flag_value "$@")" && shift 2 ;;
    --ssh-key) ssh_key="$(nmtb_flag_value "$@")" && shift 2 ;;
    --user) user="$(nmtb_flag_value "$@")" && shift 2 ;;
    --netmap-source-git) nm_git="$(nmtb_flag_value "$@")" && shift 2 ;;
    --ref) nm_ref="$(nmtb_flag_value "$@")" && shift 2 ;;
    --netmap-configure-arg) nm_args+=("$(nmtb_flag_value "$@")") && shift 2 ;;
    --user-data-extra) extra="$(nmtb_flag_value "$@")" && shift 2 ;;
    --format) format="$(nmtb_flag_value "$@")" && shift 2 ;;
    --netmap-archive) nm_archive="$(nmtb_flag_value "$@")" && shift 2 ;;
    --netmap-param) nm_params+=("$(nmtb_flag_value "$@")") && shift 2 ;;
    --emit-dir) emit_dir="$(nmtb_flag_value "$@")" && shift 2 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) nmtb_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n $out ]] || nmtb_usage_error "--out is required"
[[ -n $hostname ]] || nmtb_usage_error "--hostname is required"
[[ -n $ssh_key ]] || nmtb_usage_error "--ssh-key is required"
nmtb_require_path "$out" "--out"
nmtb_require_match "--hostname" "$hostname" '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' \
  'lower-case letters, digits and "-", at most 63, not starting or ending with "-"'
nmtb_require_match "--ssh-key" "$ssh_key" \
  '^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [A-Za-z0-9@._+-]{1,100})?$' \
  'one OpenSSH public key line: TYPE BASE64 [comment of letters, digits, @._+-]'
nmtb_require_match "--user" "$user" '^[a-z_][a-z0-9_-]{0,31}$' 'a Linux user name'
if [[ -n $nm_git || -n $nm_ref ]]; then
  [[ -n $nm_git && -n $nm_ref ]] || nmtb_usage_error "--netmap-source-git and --ref go together"
  nmtb_require_git_url "$nm_git" --netmap-source-git
  nmtb_require_git_ref "$nm_ref" --ref
fi
for a in "${nm_args[@]}"; do
  nmtb_require_match "--netmap-configure-arg" "$a" '^--[A-Za-z0-9][A-Za-z0-9_-]*(=[A-Za-z0-9._,:/=+@%-]*)?$' \
    'a configure option like --enable-foo or --opt=value'
done
if [[ -n $extra ]]; then
  nmtb_require_path "$extra" "--user-data-extra"
  [[ -f $extra ]] || nmtb_die "--user-data-extra $extra is not a file"
fi
nmtb_require_match "--format" "$format" '^(auto|iso|vfat|lab)$' 'auto, iso, vfat or lab'
[[ -z $emit_dir ]] || nmtb_require_path "$emit_dir" "--emit-dir"
if [[ $format == lab ]]; then
  # The lab image's guests have no internet and no cloud-init: nothing there would run these.
  [[ -z $nm_git && -z $nm_ref ]] ||
    nmtb_usage_error "--netmap-source-git/--ref are for cloud-init seeds (the guest builds netmap); with --format lab give --netmap-archive (native-build.sh netmap's archive)"
  ((${#nm_args[@]} == 0)) ||
    nmtb_usage_error "--netmap-configure-arg is for cloud-init seeds; with --format lab netmap comes built (--netmap-archive)"
  [[ -z $extra ]] || nmtb_usage_error "--user-data-extra is cloud-init user-data: --format lab has no cloud-init"
else
  [[ -z $nm_archive ]] ||
    nmtb_usage_error "--netmap-archive needs --format lab (a guest of the lab's own image); cloud-init seeds build netmap in the guest (--netmap-source-git)"
  ((${#nm_params[@]} == 0)) ||
    nmtb_usage_error "--netmap-param needs --format lab; cloud-init seeds load netmap with ptnet_vnet_hdr=0"
fi
if [[ -n $nm_archive ]]; then
  nmtb_require_path "$nm_archive" "--netmap-archive"
  [[ -f $nm_archive && -r $nm_archive ]] || nmtb_die "--netmap-archive $nm_archive is not a readable file"
fi
((${#nm_params[@]} == 0)) || [[ -n $nm_archive ]] ||
  nmtb_usage_error "--netmap-param needs --netmap-archive (the parameters are those of its netmap.ko)"
declare -A seen_param=()
for p in "${nm_params[@]}"; do
  [[ $p == *=* ]] || nmtb_usage_error "invalid --netmap-param '$p': NAME=VALUE, e.g. ptnet_vnet_hdr=0"
  nmtb_require_match "--netmap-param name" "${p%%=*}" '^[a-z_][a-z0-9_]*$' \
    'a module parameter name: lower-case letters, digits and "_", not starting with a digit'
  nmtb_require_match "--netmap-param value" "${p#*=}" '^[A-Za-z0-9_.:-]+$' 'letters, digits, "_", ".", ":" and "-"'
  [[ -z ${seen_param[${p%%=*}]:-} ]] || nmtb_usage_error "--netmap-param ${p%%=*} is given twice"
  seen_param[${p%%=*}]=1
done

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT
sidecar="$out.nmtb-seed"

# ---------------------------------------------------------------- the lab image's seed
if [[ $format == lab ]]; then
  if [[ -n $nm_archive ]]; then
    # Checked here, where a mistake is cheap: in the guest it would only show on its console.
    ko_count="$(tar -tzf "$nm_archive" 2>/dev/null | grep -c '^[^/]*/netmap\.ko$' || true)"
    [[ $ko_count == 1 ]] ||
      nmtb_die "--netmap-archive $nm_archive has no top-level <buildKey>/netmap.ko (found ${ko_count:-0}): not native-build.sh netmap's archive"
  fi
  stage="$work/lab"
  mkdir -p "$stage"
  # Not "authorized_keys", which nmtb-seed gives root: the key is the user's alone, as cloud-init's
  # guests have it (root logins off).
  printf '%s\n' "$ssh_key" >"$stage/user_authorized_keys"
  printf '%s\n' "$hostname" >"$stage/hostname"
  printf '%s\n' "$user" >"$stage/user"
  cp "$here/guest-setup.sh" "$stage/setup"
  if [[ -n $nm_archive ]]; then
    cp "$nm_archive" "$stage/netmap-build.tgz"
    printf '%s  netmap-build.tgz\n' "$(nmtb_sha256_file "$stage/netmap-build.tgz")" >"$stage/netmap-build.tgz.sha256"
    ((${#nm_params[@]} == 0)) || printf '%s\n' "${nm_params[@]}" >"$stage/netmap.params"
  fi
  chmod 0644 "$stage"/*
  members=()
  for f in "$stage"/*; do members+=("${f##*/}"); done
  # Reproducible bytes (order, owner, times), so the archive's digest is the content's.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu \
    -C "$stage" -cf "$work/seed.tar" -- "${members[@]}"
  # QEMU sizes the raw disk to the file and the guest's tar reads it in 512-byte blocks; GNU tar
  # pads to whole 10 KiB records already: this only keeps that true.
  size="$(stat -c %s "$work/seed.tar")"
  ((size % 512 == 0)) || truncate -s $(((size + 511) / 512 * 512)) "$work/seed.tar"
  content_sha="$(nmtb_sha256_file "$work/seed.tar")"
  instance_id="$hostname-${content_sha:0:12}"
  emit_lab() {
    printf '{"path":%s,"format":"lab","tool":"tar","instanceId":%s,"contentSha256":%s,"userDataSha256":null,"changed":%s}\n' \
      "$(nmtb_json_str "$out")" "$(nmtb_json_str "$instance_id")" "$(nmtb_json_str "$content_sha")" "$(nmtb_json_bool "$1")"
  }
  if [[ -n $emit_dir ]]; then
    mkdir -p "$emit_dir"
    cp "$stage"/* "$emit_dir/"
  fi
  if [[ -f $out && -f $sidecar ]]; then
    read -r old_sha old_format _ <"$sidecar" || true
    if [[ $old_sha == "$content_sha" && $old_format == lab ]]; then
      nmtb_log "$out is up to date"
      emit_lab false
      exit 0
    fi
  fi
  mkdir -p "$(dirname "$out")"
  cp "$work/seed.tar" "$out.tmp.$$"
  mv -f "$out.tmp.$$" "$out"
  printf '%s lab tar\n' "$content_sha" >"$sidecar"
  nmtb_log "seed written to $out (lab, ${#members[@]} files: ${members[*]})"
  emit_lab true
  exit 0
fi

# ---------------------------------------------------------------- user-data
# Every value below was validated against a character set without quotes, backslashes,
# whitespace (except the key comment separator) or "$", so it is safe in YAML and in sh.
cloud_config="$work/cloud-config"
{
  cat <<EOF
#cloud-config
hostname: $hostname
preserve_hostname: false
manage_etc_hosts: true
ssh_pwauth: false
disable_root: true
users:
  - name: $user
    gecos: netmap-testbed
    shell: /bin/bash
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    lock_passwd: true
    ssh_authorized_keys:
      - "$ssh_key"
EOF
  if [[ -n $nm_git ]]; then
    configure_line="./configure --no-drivers --enable-ptnetmap"
    for a in "${nm_args[@]}"; do configure_line+=" '$a'"; done
    cat <<EOF
write_files:
  - path: /etc/modprobe.d/netmap-testbed.conf
    permissions: "0644"
    content: |
      # ptnet NICs without the virtio-net header: plain Ethernet frames (NFV)
      options netmap ptnet_vnet_hdr=0
  - path: /etc/modules-load.d/netmap-testbed.conf
    permissions: "0644"
    content: |
      netmap
  - path: /usr/local/sbin/netmap-testbed-guest-netmap
    permissions: "0755"
    content: |
      #!/bin/sh
      # Builds netmap.ko (core + ptnet guest driver, no patched NIC drivers) for the running
      # kernel and loads it with ptnet_vnet_hdr=0. Written by netmap-testbed's make-seed.sh.
      set -eu
      exec >>/var/log/netmap-testbed-guest-netmap.log 2>&1
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -q
      apt-get install -y -q build-essential git "linux-headers-\$(uname -r)"
      rm -rf /usr/src/netmap
      git clone -q '$nm_git' /usr/src/netmap
      cd /usr/src/netmap
      git checkout -q --detach '$nm_ref'
      $configure_line
      make -j"\$(nproc)"
      make install
      depmod -a
      modprobe -r netmap 2>/dev/null || true
      modprobe netmap ptnet_vnet_hdr=0
      echo 0 > /sys/module/netmap/parameters/ptnet_vnet_hdr
      mkdir -p /var/lib/netmap-testbed
      git rev-parse HEAD > /var/lib/netmap-testbed/guest-netmap.commit
      echo "netmap-testbed: netmap \$(git rev-parse HEAD) loaded, ptnet_vnet_hdr=\$(cat /sys/module/netmap/parameters/ptnet_vnet_hdr)" > /dev/console || true
runcmd:
  - [/usr/local/sbin/netmap-testbed-guest-netmap]
EOF
  fi
} >"$cloud_config"

user_data="$work/user-data"
if [[ -n $extra ]]; then
  first_line="$(head -n1 "$extra")"
  case "$first_line" in
    "#cloud-config"*) extra_type="text/cloud-config" ;;
    "#!"*) extra_type="text/x-shellscript" ;;
    "#include"*) extra_type="text/x-include-url" ;;
    "#cloud-boothook"*) extra_type="text/cloud-boothook" ;;
    *) nmtb_die "--user-data-extra $extra must start with #cloud-config, #!, #include or #cloud-boothook" ;;
  esac
  grep -q '^--==NETMAP-TESTBED==' "$extra" && nmtb_die "--user-data-extra contains the MIME boundary line"
  boundary="==NETMAP-TESTBED=="
  {
    printf 'Content-Type: multipart/mixed; boundary="%s"\nMIME-Version: 1.0\n\n' "$boundary"
    printf -- '--%s\nContent-Type: text/cloud-config; charset="utf-8"\nMIME-Version: 1.0\n' "$boundary"
    printf 'Content-Disposition: attachment; filename="netmap-testbed.cfg"\n\n'
    cat "$cloud_config"
    printf -- '--%s\nContent-Type: %s; charset="utf-8"\nMIME-Version: 1.0\n' "$boundary" "$extra_type"
    printf 'Content-Disposition: attachment; filename="%s"\n\n' "extra"
    cat "$extra"
    [[ -z $(tail -c1 "$extra") ]] || printf '\n'
    printf -- '--%s--\n' "$boundary"
  } >"$user_data"
else
  cp "$cloud_config" "$user_data"
fi

ud_sha="$(nmtb_sha256_file "$user_data")"
instance_id="$hostname-${ud_sha:0:12}"
printf 'instance-id: %s\nlocal-hostname: %s\n' "$instance_id" "$hostname" >"$work/meta-data"
content_sha="$(cat "$work/user-data" "$work/meta-data" | sha256sum | cut -d' ' -f1)"

if [[ -n $emit_dir ]]; then
  mkdir -p "$emit_dir"
  cp "$work/user-data" "$work/meta-data" "$emit_dir/"
fi

emit() {
  printf '{"path":%s,"format":%s,"tool":%s,"instanceId":%s,"contentSha256":%s,"userDataSha256":%s,"changed":%s}\n' \
    "$(nmtb_json_str "$out")" "$(nmtb_json_str "$1")" "$(nmtb_json_str "$2")" "$(nmtb_json_str "$instance_id")" \
    "$(nmtb_json_str "$content_sha")" "$(nmtb_json_str "$ud_sha")" "$(nmtb_json_bool "$3")"
}
if [[ -f $out && -f $sidecar ]]; then
  read -r old_sha old_format old_tool <"$sidecar" || true
  if [[ $old_sha == "$content_sha" && ($format == auto || $format == "$old_format") ]]; then
    nmtb_log "$out is up to date"
    emit "$old_format" "$old_tool" false
    exit 0
  fi
fi

# ---------------------------------------------------------------- the cidata volume
have() { command -v "$1" >/dev/null 2>&1; }
img="$work/seed.img"
tool=""
case "$format" in
  auto)
    if have cloud-localds && have genisoimage; then tool=cloud-localds format=iso
    elif have genisoimage; then tool=genisoimage format=iso
    elif have xorriso; then tool=xorriso format=iso
    elif have mkfs.vfat && have mcopy; then tool=mkfs.vfat format=vfat
    else nmtb_die "no seed tool: apt-get install genisoimage (or cloud-image-utils, xorriso, or dosfstools + mtools)"; fi
    ;;
  iso)
    if have genisoimage; then tool=genisoimage
    elif have xorriso; then tool=xorriso
    else nmtb_die "--format iso needs genisoimage or xorriso (apt-get install genisoimage)"; fi
    ;;
  vfat)
    if ! have mkfs.vfat || ! have mcopy; then
      nmtb_die "--format vfat needs mkfs.vfat and mcopy (apt-get install dosfstools mtools)"
    fi
    tool=mkfs.vfat
    ;;
esac
nmtb_log "writing $format seed with $tool"
case "$tool" in
  cloud-localds)
    cloud-localds --filesystem=iso9660 "$img" "$work/user-data" "$work/meta-data" >"$work/tool.log" 2>&1 ||
      nmtb_die "cloud-localds failed: $(cat "$work/tool.log")"
    ;;
  genisoimage)
    genisoimage -quiet -output "$img" -volid cidata -joliet -rock "$work/user-data" "$work/meta-data" >"$work/tool.log" 2>&1 ||
      nmtb_die "genisoimage failed: $(cat "$work/tool.log")"
    ;;
  xorriso)
    xorriso -as mkisofs -quiet -output "$img" -volid cidata -joliet -rock "$work/user-data" "$work/meta-data" >"$work/tool.log" 2>&1 ||
      nmtb_die "xorriso failed: $(cat "$work/tool.log")"
    ;;
  mkfs.vfat)
    truncate -s 2M "$img"
    mkfs.vfat -n CIDATA "$img" >"$work/tool.log" 2>&1 || nmtb_die "mkfs.vfat failed: $(cat "$work/tool.log")"
    mcopy -oi "$img" "$work/user-data" "$work/meta-data" :: >>"$work/tool.log" 2>&1 ||
      nmtb_die "mcopy failed: $(cat "$work/tool.log")"
    ;;
esac

mkdir -p "$(dirname "$out")"
cp "$img" "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
printf '%s %s %s\n' "$content_sha" "$format" "$tool" >"$sidecar"
nmtb_log "seed written to $out ($format, instance-id $instance_id)"
emit "$format" "$tool" true

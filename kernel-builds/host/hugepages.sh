#!/usr/bin/env bash
# Reserves hugepages for VM memory and mounts hugetlbfs for that page size where the planner's
# QEMU argv expects it ($NMTB_STATE_DIR/hugepages-SIZE). `remove` gives the pages back to the
# count found before the first `apply`, so the host ends as it was.
set -euo pipefail
# shellcheck source=kernel-builds/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'USAGE'
usage: hugepages.sh apply --size 2M|1G --count N
       hugepages.sh remove --size 2M|1G
       hugepages.sh status --size 2M|1G

  apply    make at least N pages of SIZE available (the kernel may grant fewer: that is an
           error, with what it granted) and mount hugetlbfs (pagesize=SIZE)
  remove   unmount and restore the page count recorded before the first apply
  status   {"present": mounted and at least the applied count reserved}

environment: NMTB_STATE_DIR (default /var/lib/netmap-testbed), NMTB_SYS_HUGEPAGES (sysfs root, tests)
stdout: {"action","size","requested","reserved","previous","mount","changed"}
USAGE
}

action="${1:-}"
[[ $action == apply || $action == remove || $action == status ]] || {
  usage >&2
  exit 2
}
shift
size="" count=""
while (($# > 0)); do
  case "$1" in
    --size) size="$(nmtb_flag_value "$@")" && shift 2 ;;
    --count) count="$(nmtb_flag_value "$@")" && shift 2 ;;
    -h | --help) usage && exit 0 ;;
    *) nmtb_usage_error "unknown argument '$1'" ;;
  esac
done
case "$size" in
  2M) kib=2048 ;;
  1G) kib=1048576 ;;
  *) nmtb_usage_error "--size must be 2M or 1G" ;;
esac
[[ $action != apply ]] || {
  nmtb_require_uint "$count" "--count"
  ((count > 0)) || nmtb_usage_error "--count must be positive"
}

state="${NMTB_STATE_DIR:-/var/lib/netmap-testbed}"
sysdir="${NMTB_SYS_HUGEPAGES:-/sys/kernel/mm/hugepages}/hugepages-${kib}kB"
nr="$sysdir/nr_hugepages"
mountpoint="$state/hugepages-$size"
record="$state/hugepages/$size.previous"
[[ -f $nr ]] || nmtb_die "this kernel has no $size hugepages ($sysdir missing)"

mounted() { grep -qs " $mountpoint hugetlbfs " /proc/mounts; }
current="$(<"$nr")"
changed=0

case "$action" in
  apply)
    mkdir -p "$state/hugepages" "$mountpoint"
    [[ -f $record ]] || printf '%s\n' "$current" >"$record"
    if ((current < count)); then
      nmtb_log "reserving $count pages of $size (had $current)"
      printf '%s\n' "$count" >"$nr"
      changed=1
      current="$(<"$nr")"
      ((current >= count)) || nmtb_die "asked for $count pages of $size, the kernel granted $current (memory too fragmented or too small; reserve at boot with hugepagesz=$size hugepages=$count)"
    fi
    if ! mounted; then
      mount -t hugetlbfs -o "pagesize=$size" nodev "$mountpoint"
      changed=1
    fi
    ;;
  remove)
    if mounted; then
      umount "$mountpoint"
      changed=1
    fi
    rmdir "$mountpoint" 2>/dev/null || true
    if [[ -f $record ]]; then
      previous="$(<"$record")"
      if [[ $previous != "$current" ]]; then
        printf '%s\n' "$previous" >"$nr"
        changed=1
      fi
      rm -f "$record"
      current="$(<"$nr")"
    fi
    ;;
  status)
    present=false
    mounted && present=true
    printf '{"present":%s,"size":%s,"reserved":%s,"mount":%s}\n' "$present" "$(nmtb_json_str "$size")" "$current" "$(nmtb_json_str "$mountpoint")"
    exit 0
    ;;
esac

printf '{"action":%s,"size":%s,"requested":%s,"reserved":%s,"previous":%s,"mount":%s,"changed":%s}\n' \
  "$(nmtb_json_str "$action")" "$(nmtb_json_str "$size")" "${count:-null}" "$current" \
  "$(if [[ -f $record ]]; then cat "$record"; else echo null; fi)" "$(nmtb_json_str "$mountpoint")" "$(nmtb_json_bool "$changed")"

#!/usr/bin/env bash
# Can a lab host on this machine run its own VMs under KVM? Only if this machine's CPU has hardware
# virtualisation (vmx/svm) and the user may open /dev/kvm: then the lab host runs under KVM and
# nests its VMs. Without it the lab host runs under TCG and so do its VMs, emulated inside an
# emulated machine: a guest of the lab's image had not reached SSH after 24 minutes on a 2-core
# machine (docs/local-lab.md, "Timings"), and ptnet's data path needs KVM anyway.
# This is the quick answer, read before anything is built; detect-accel.sh, which boots a kernel
# under KVM, is the thorough one that lab hosts use.
#
# usage: nested-kvm.sh        exit 0 (yes) or 1 (no, with the reason on stderr)
# Environment: NMTB_ACCEL=kvm|tcg forces the answer, as it forces detect-accel.sh's.
set -euo pipefail

case "${NMTB_ACCEL:-}" in
  kvm) exit 0 ;;
  tcg)
    echo "NMTB_ACCEL=tcg: lab hosts run under TCG" >&2
    exit 1
    ;;
  "") ;;
  *)
    echo "nested-kvm.sh: NMTB_ACCEL must be kvm or tcg, not ${NMTB_ACCEL}" >&2
    exit 2
    ;;
esac
if ! grep -Eqw 'vmx|svm' /proc/cpuinfo; then
  echo "this machine's CPU shows no hardware virtualisation (no vmx or svm in /proc/cpuinfo)" >&2
  exit 1
fi
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
  echo "/dev/kvm cannot be opened for reading and writing by $(id -un)" >&2
  exit 1
fi
exit 0

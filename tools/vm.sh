#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the pcache guest and run one command in it, like `vng -- CMD`.
#
#   tools/vm.sh [options] -- CMD [ARG...]
#
#   --kernel FILE	bzImage (default build/linux/arch/x86/boot/bzImage)
#   --initrd FILE	initramfs (default build/initramfs.cpio.gz)
#   --out DIR		output folder (default: a new one under build/vm/)
#   --disk MB		add a blank virtio disk of MB MiB (vda, vdb, ...)
#   --mem SIZE		guest memory, split over the two nodes (default 2G)
#   --smp N		vCPUs, split over the two nodes (default 4)
#   --timeout S		kill the guest after S seconds (default 900)
#   --kvm		use KVM instead of TCG (nested KVM hangs here)
#   --append ARGS	more kernel command line
#
# The guest sees the host's root read-only; CMD runs there by chroot, in the
# current directory, with /tmp/out the output folder (shared, writable).
# The guest has its own /tmp, /run and /var/tmp: the pcache tree is shared
# separately and shows wherever it is, but another current directory under
# those is not visible.
# The console is shown and kept in OUT/console.log, the guest's dmesg in
# OUT/dmesg.txt.  Exit status: CMD's, or 124 if the guest hung, 125 if it
# did not boot or died, 126 if the kernel printed a WARNING, BUG, Oops,
# KASAN, lockdep or hung-task splat (listed in OUT/splats.txt).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernel=$top/build/linux/arch/x86/boot/bzImage
initrd=$top/build/initramfs.cpio.gz
out=
mem=2G
smp=4
timeout=900
accel=tcg
accel_opt=${PCACHE_TCG:-tcg,thread=single}
disks=()
append=

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--disk) disks+=("$2"); shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--kvm) accel=kvm; accel_opt=kvm; shift ;;
	--append) append="$append $2"; shift 2 ;;
	--) shift; break ;;
	*) echo "vm.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: tools/vm.sh [options] -- CMD [ARG...]" >&2; exit 2; }
for f in "$kernel" "$initrd"; do
	[ -f "$f" ] || { echo "vm.sh: $f is missing (make kernel initramfs)" >&2; exit 2; }
done

if [ -z "$out" ]; then
	mkdir -p "$top/build/vm"
	out=$(mktemp -d "$top/build/vm/run.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{console.log,dmesg.txt,splats.txt,disk*.img,top}

# Where the pcache tree is: the guest mounts it there (share "top") when
# the host root does not show it, e.g. under /tmp, which the guest replaces.
echo "$top" > "$out/top"

# The command, run by bash in the chroot.
{
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export HOME=/root LANG=C.UTF-8"
	echo "cd $(printf '%q' "$PWD") || exit 125"
	printf 'exec'
	printf ' %q' "$@"
	echo
} > "$out/cmd"

# Memory: half on each node.
mem_mb=$(numfmt --from=iec "${mem%B}" | awk '{print int($1 / 1048576)}')
half=$((mem_mb / 2))
cpus_half=$((smp / 2))
args=(
	-accel "$accel_opt" -m "${mem_mb}M" -smp "$smp,sockets=2,cores=$((smp / 2)),threads=1"
	-object "memory-backend-ram,id=m0,size=${half}M"
	-object "memory-backend-ram,id=m1,size=$((mem_mb - half))M"
	-numa "node,nodeid=0,cpus=0-$((cpus_half - 1)),memdev=m0"
	-numa "node,nodeid=1,cpus=${cpus_half}-$((smp - 1)),memdev=m1"
	-nodefaults -display none -no-reboot
	-chardev "stdio,id=con,signal=off,logfile=$out/console.log"
	-serial chardev:con
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 loglevel=5 panic=-1 oops=panic softlockup_panic=0 rdinit=/init$append"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$out,mount_tag=out,security_model=none"
	-virtfs "local,path=$top,mount_tag=top,security_model=none,readonly=on"
)
[ "$accel" = kvm ] && args+=(-cpu host)
i=0
for mb in "${disks[@]}"; do
	img=$out/disk$i.img
	truncate -s "${mb}M" "$img"
	args+=(-drive "file=$img,if=virtio,format=raw,cache=unsafe")
	i=$((i + 1))
done

set +e
timeout -k 10 "$timeout" qemu-system-x86_64 "${args[@]}" < /dev/null
qrc=$?
set -e
rm -f "$out"/disk*.img

logs=("$out/console.log")
[ -f "$out/dmesg.txt" ] && logs+=("$out/dmesg.txt")
# Report headers only: lockdep's own reports start with "WARNING:" or
# "BUG:"; its boot banner ("RCU lockdep checking is enabled") is no splat.
pattern='WARNING:|BUG:|Oops|KASAN|UBSAN|general protection fault|Kernel panic|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|bad unlock balance|blocked for more than|soft lockup|hard LOCKUP|Bad page state|list_add corruption|list_del corruption'
grep -haE "$pattern" "${logs[@]}" | sort -u > "$out/splats.txt" || true

rc=$(sed -n 's/.*PCACHE-GUEST-EXIT \([0-9]*\).*/\1/p' "$out/console.log" | tail -1)
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "vm.sh: the guest hung: killed after ${timeout}s" >&2
	rc=124
elif [ -z "$rc" ]; then
	echo "vm.sh: the guest died or did not boot (qemu exit $qrc); see $out/console.log" >&2
	grep -a 'PCACHE-GUEST-ERROR' "$out/console.log" >&2 || true
	rc=125
fi
if [ -s "$out/splats.txt" ]; then
	echo "vm.sh: the guest kernel printed splats:" >&2
	sed 's/^/    /' "$out/splats.txt" >&2
	[ "$rc" = 0 ] && rc=126
fi
exit "$rc"

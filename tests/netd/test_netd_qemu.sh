#!/bin/sh
# netd_qemu: unmodified QEMU (TCG) boots Debian's Linux 6.12 whose own
# virtio_net driver is served by ioasid-netd's vhost-user port, which the
# daemon cross-connects to a net_tap port. On the host, tap-reflect sends
# every test frame that comes out of the TAP interface straight back in;
# in the guest, vnet-frames sends a counted stream of numbered frames of
# 64 to 1,514 bytes and checks each comes back intact and in order. So
# each frame crosses the daemon both ways: tap-reflect checks it after the
# first crossing (guest to host), vnet-frames after the second.
#
# One daemon for the whole run, never restarted; one boot each:
#   plain      no vIOMMU;
#   iommu      QEMU's intel-iommu with device IOTLB, virtio-net with
#              iommu_platform and ATS behind a PCIe root port (IOTLB
#              updates through the fast path), the guest's IOMMU strict;
#   killed     a plain boot killed (SIGKILL) mid-traffic: the daemon lives,
#              the port frees itself;
#   restarted  a plain boot after it: the port serves the new front-end.
# After each clean boot the counters balance: every frame one port
# received was sent by its peer or counted as a drop. At the end SIGTERM:
# exit 0, sockets and the TAP interface gone.
#
# vectors=0: QEMU 7.2 under TCG crashes when vhost-user meets MSI-X.
# TAP on stdout; exit 77 (skip) when not root, without QEMU, the kernel
# image, busybox, python3 or 64 free 2 MiB hugepages. A failure shows the
# serial log and the daemon's stderr.
# Usage: test_netd_qemu.sh IOASID-NETD TAP-REFLECT IOASIDCTL SRCDIR WORKDIR
set -u
netd=$1 reflect=$2 ctl=$3 src=$4 work=$5
frames=${NETD_FRAMES:-3000}
boot_limit=${NETD_BOOT_LIMIT:-300}

echo "TAP version 13"
skip() {	# the whole test; meson's TAP reader takes "1..0 # SKIP", not 77
	echo "1..0 # SKIP $1"
	exit 0
}
# Issue 11's guest panic (slab free list corrupted under packet_sendmsg,
# about one boot in ten once frames came back to the driver later than
# they left it, as a daemon returns them) kept these boots opt-in. With
# Debian's 6.12.118 guest kernel it did not come back in 56 boots
# (2026-12-04: 16 here, 20 plain-packed-late without slab debugging,
# where 6.12.117 panicked 3 times in 15, 20 more with it), so they run
# by default again; a panic still fails the boot and is named.
# NETD_QEMU=0 skips them.
[ "${NETD_QEMU:-1}" = 1 ] || skip "NETD_QEMU=0"
[ "$(id -u)" = 0 ] || skip "needs root (the DPDK EAL and a TAP interface)"
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 is not installed (tools/setup.sh --kernel installs it)"
command -v python3 >/dev/null || skip "no python3 (reads the daemon's JSON)"
kver=$(ls /lib/modules 2>/dev/null | grep -- '-amd64$' | grep '^6\.12\.' | sort -V | tail -1)
[ -n "$kver" ] && [ -r "/boot/vmlinuz-$kver" ] ||
	skip "no readable Linux 6.12 image in /boot (tools/setup.sh --kernel installs it)"
[ -x /bin/busybox ] || skip "no static /bin/busybox (Debian's busybox-static)"

# 64 free 2 MiB pages for the daemon's 128 MiB (more reserved if need be).
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
free=$(cat "$hp/free_hugepages" 2>/dev/null || echo 0)
if [ "$free" -lt 64 ]; then
	echo $(( $(cat "$hp/nr_hugepages") + 64 - free )) > "$hp/nr_hugepages" 2>/dev/null
	free=$(cat "$hp/free_hugepages" 2>/dev/null || echo 0)
fi
[ "$free" -ge 64 ] || skip "fewer than 64 free 2 MiB hugepages, and no more could be reserved"
grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts ||
	{ mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages; } ||
	skip "cannot mount hugetlbfs at /dev/hugepages"

rm -rf "$work"
mkdir -p "$work"
. "$src/tests/vm/vnet_initramfs.sh"
vnet_initramfs "$work" "$src" "$kver"

tap=ndq$$
sock=$work/vm0.sock control=$work/ctl
"$netd" -l 0,1 -m 128 --in-memory --no-pci --file-prefix="netd-qemu-$$" \
	--vdev "net_tap0,iface=$tap" -- --vhost "vm0=$sock,iommu" \
	--xconnect vm0,net_tap0 --control "$control" > "$work/netd.log" 2>&1 &
npid=$!
rpid=
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	kill -0 "$npid" 2>/dev/null && kill -KILL "$npid" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
w=0
while [ ! -S "$control" ] && [ $w -lt 300 ] && kill -0 "$npid" 2>/dev/null; do
	sleep 0.1; w=$((w + 1))
done
if [ ! -S "$control" ] || ! ip link show "$tap" >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - ioasid-netd starts with a vhost-user and a net_tap port"
	sed 's/^/# netd: /' "$work/netd.log" | tee /dev/stderr
	exit 1
fi
# Only the test's frames on the TAP interface: no IPv6 chatter.
echo 1 > "/proc/sys/net/ipv6/conf/$tap/disable_ipv6" 2>/dev/null
ip link set "$tap" up
"$reflect" "$tap" "$work/reflect.stats" > "$work/reflect.log" 2>&1 &
rpid=$!

echo "1..6"
echo "# $kver, QEMU $(qemu-system-x86_64 --version | head -1 | sed 's/.*version //'), $frames frames per boot, TAP $tap"
failed=0 i=0

# stat PORT FIELD: one counter of the last stats reply.
stat() {
	python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
print([p for p in r["ports"] if p["name"]==sys.argv[2]][0][sys.argv[3]])' \
		"$work/stats.json" "$1" "$2"
}
stats() {
	"$ctl" netd stats --control "$control" > "$work/stats.json"
}
reflected() {
	sed -n "s/^$1 //p" "$work/reflect.stats"
}
show() {
	{
		echo "# $1"
		# The first lines of an oops, then the end of the log.
		grep -a -m 12 -E 'BUG|WARNING|Oops|general protection|panic' \
			"$work/$2.serial" 2>/dev/null | sed 's/^/# oops: /'
		sed -n 's/^/# serial: /p' "$work/$2.serial" 2>/dev/null | tail -40
		sed -n 's/^/# netd: /p' "$work/netd.log" | tail -20
		sed -n 's/^/# reflect: /p' "$work/reflect.log" | tail -5
		sed -n 's/^/# stats: /p' "$work/stats.json" 2>/dev/null
	} | tee /dev/stderr
}

# boot NAME plain|iommu [FRAMES]: QEMU (under timeout) in the background,
# the timeout's pid in $qpid.
boot() {
	iommu_dev= net_opts= append=
	if [ "$2" = iommu ]; then
		iommu_dev="-device intel-iommu,intremap=on,device-iotlb=on"
		net_opts=",iommu_platform=on,ats=on"
		append="intel_iommu=on iommu.strict=1"
	fi
	# shellcheck disable=SC2086
	timeout -k 10 "$boot_limit" sh "$src/tests/vm/vnet_qemu.sh" \
		"$kver" "$work/initrd.gz" "$sock" 1 "" "" "$net_opts" \
		"$append vnet.frames=${3:-$frames}" $iommu_dev -pidfile "$work/$1.pid" \
		> "$work/$1.serial.raw" 2>&1 &
	qpid=$!
}

# clean NAME plain|iommu: a boot that must pass every frame both ways.
clean() {
	i=$((i + 1))
	"$ctl" netd reset --control "$control" > /dev/null
	r0=$(reflected intact)
	t0=$(date +%s)
	boot "$1" "$2"
	wait "$qpid"
	qrc=$?
	t1=$(date +%s)
	tr -d '\r' < "$work/$1.serial.raw" > "$work/$1.serial"
	sleep 1		# the last reflected frames, the reflector's stats
	stats
	ok=$(sed -n 's/^VNET: ok \([0-9]*\) \([0-9]*\) \([0-9]*\)$/\2 \3/p' "$work/$1.serial")
	faults=$(sed -n 's/^VNET-VM: dmar faults \([0-9]*\)$/\1/p' "$work/$1.serial")
	r1=$(reflected intact) bad=$(reflected bad)
	why=
	[ -n "$ok" ] && grep -q '^VNET-VM: exit 0$' "$work/$1.serial" ||
		why="$why the guest's frames did not all come back intact;"
	[ "${faults:-0}" = 0 ] || why="$why $faults DMAR faults;"
	# A failure still, named: the vhost-user backend's known defect
	# (docs/netd.md, "Known defect"), seen without the daemon too.
	grep -aq 'Kernel panic' "$work/$1.serial" &&
		why="$why the guest panicked (the backend's known defect when frames reach the driver later than they left it? docs/netd.md);"
	[ "$bad" = 0 ] || why="$why tap-reflect saw $bad damaged frames;"
	[ $((r1 - r0)) -ge "$frames" ] ||
		why="$why tap-reflect saw $((r1 - r0)) intact frames, not $frames;"
	vrx=$(stat vm0 rx_packets) ttx=$(stat net_tap0 tx_packets)
	trx=$(stat net_tap0 rx_packets) vtx=$(stat vm0 tx_packets)
	[ "$vrx" -ge "$frames" ] && [ "$ttx" -ge "$frames" ] &&
	[ "$trx" -ge "$frames" ] && [ "$vtx" -ge "$frames" ] ||
		why="$why counters below $frames (vm0 rx $vrx tx $vtx, net_tap0 rx $trx tx $ttx);"
	# Balance: what a port received its peer sent, or it was dropped.
	[ "$vrx" -eq $((ttx + $(stat vm0 rx_drops) + $(stat net_tap0 tx_drops))) ] &&
	[ "$trx" -eq $((vtx + $(stat net_tap0 rx_drops) + $(stat vm0 tx_drops))) ] ||
		why="$why counters do not balance;"
	if [ "$2" = iommu ] && [ "$(stat vm0 iotlb_updates)" -eq 0 ]; then
		why="$why no IOTLB updates reached the backend;"
	fi
	if [ -z "$why" ]; then
		echo "ok $i - $1: $frames frames both ways intact"
		echo "# $1: ${ok% *} frames in ${ok#* } ms; boot $((t1 - t0)) s; vm0 rx $vrx tx $vtx, net_tap0 rx $trx tx $ttx, drops $(stat vm0 rx_drops)/$(stat vm0 tx_drops)/$(stat net_tap0 rx_drops)/$(stat net_tap0 tx_drops), iotlb updates $(stat vm0 iotlb_updates) misses $(stat vm0 iotlb_misses), connections $(stat vm0 connections)"
	else
		failed=1
		echo "not ok $i - $1: $frames frames both ways intact"
		show "$1: qemu exit $qrc after $((t1 - t0)) s;$why" "$1"
	fi
}

clean plain plain
clean iommu iommu

# killed: SIGKILL once the guest's frames flow (a stream far longer than
# the wait, so it is cut mid-way); the daemon must live on and its port
# must be free for the next front-end.
i=$((i + 1))
boot killed plain 1000000
w=0
while [ $w -lt "$boot_limit" ] && kill -0 "$qpid" 2>/dev/null &&
      ! grep -q 'VNET: progress' "$work/killed.serial.raw" 2>/dev/null; do
	sleep 0.5; w=$((w + 1))
done
flowing=$(grep -c 'VNET: progress' "$work/killed.serial.raw" 2>/dev/null)
# QEMU itself (its -pidfile), not the timeout around it.
qemu_pid=$(cat "$work/killed.pid" 2>/dev/null)
[ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null
wait "$qpid" 2>/dev/null
tr -d '\r' < "$work/killed.serial.raw" > "$work/killed.serial"
sleep 1
if [ "${flowing:-0}" -gt 0 ] && ! grep -q '^VNET-VM: exit' "$work/killed.serial" &&
   kill -0 "$npid" 2>/dev/null && stats && [ "$(stat vm0 running)" = 0 ]; then
	echo "ok $i - killed: the guest killed mid-traffic, the daemon serves on"
else
	failed=1
	echo "not ok $i - killed: the guest killed mid-traffic, the daemon serves on"
	show "killed: frames flowing before the kill: ${flowing:-0}" killed
fi

clean restarted plain
i=$((i + 1))
conns=$(stat vm0 connections)
if [ "$conns" -ge 4 ]; then
	echo "ok $i - one daemon served all four front-ends ($conns connections)"
else
	failed=1
	echo "not ok $i - one daemon served all four front-ends ($conns connections)"
fi

# SIGTERM: exit 0, nothing left behind.
i=$((i + 1))
kill -TERM "$npid"
w=0
while kill -0 "$npid" 2>/dev/null && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
if kill -0 "$npid" 2>/dev/null; then
	nrc="still running after 10 s"
else
	wait "$npid"
	nrc=$?
fi
left=
[ -e "$sock" ] && left="$left $sock"
[ -e "$control" ] && left="$left $control"
ip link show "$tap" >/dev/null 2>&1 && left="$left interface $tap"
ls /dev/hugepages 2>/dev/null | grep -q "netd-qemu-$$" && left="$left hugepage files"
[ -d "/var/run/dpdk/netd-qemu-$$" ] && left="$left /var/run/dpdk/netd-qemu-$$"
if [ "$nrc" = 0 ] && [ -z "$left" ]; then
	echo "ok $i - SIGTERM: exit 0, nothing left behind"
else
	failed=1
	echo "not ok $i - SIGTERM: exit $nrc, left:${left:- nothing}"
	sed -n 's/^/# netd: /p' "$work/netd.log" | tail -20 | tee /dev/stderr
fi
exit $failed

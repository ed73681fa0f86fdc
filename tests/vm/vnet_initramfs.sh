# Sourced by the tests that boot a Linux guest to run vnet-frames on its
# virtio-net interface (tests/vhost/test_qemu.sh, tests/netd/
# test_netd_qemu.sh): vnet_initramfs WORK SRC KVER builds WORK/initrd.gz
# from busybox, the three modules virtio_net needs (decompressed) and
# tests/vm/vnet_frames.c built static. The caller defines skip REASON
# (exit 77). The guest's init loads the modules, waits for an interface,
# runs vnet-frames with vnet.frames= from the kernel command line, prints
# "VNET-VM: ..." lines (kernel, IOMMU groups, DMAR faults, exit status)
# and powers off.
vnet_initramfs() {
	_w=$1 _src=$2 _kver=$3
	mkdir -p "$_w/initramfs/bin" "$_w/initramfs/mods"
	_ird=$_w/initramfs
	if ! ${CC:-cc} -O2 -static -o "$_ird/bin/vnet-frames" \
		"$_src/tests/vm/vnet_frames.c" 2> "$_w/cc.log"; then
		cat "$_w/cc.log" >&2
		skip "cannot build a static vnet-frames (glibc's libc.a missing?)"
	fi
	cp /bin/busybox "$_ird/bin/busybox"
	for _m in net/core/failover drivers/net/net_failover drivers/net/virtio_net; do
		xz -dc "/lib/modules/$_kver/kernel/$_m.ko.xz" > "$_ird/mods/${_m##*/}.ko" ||
			skip "cannot unpack module $_m of $_kver"
	done
	cat > "$_ird/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in failover net_failover virtio_net; do
	insmod /mods/$m.ko || echo "VNET-VM: cannot load $m"
done
frames=$(sed -n 's/.*vnet\.frames=\([0-9]*\).*/\1/p' /proc/cmdline)
for i in 1 2 3 4 5 6 7 8 9 10; do
	ifc=$(ls /sys/class/net | grep -v '^lo$' | head -1)
	[ -n "$ifc" ] && break
	sleep 1
done
echo "VNET-VM: kernel $(uname -r), interface ${ifc:-none}, $frames frames"
for g in /sys/kernel/iommu_groups/*; do
	[ -r "$g/type" ] && echo "VNET-VM: iommu group ${g##*/} type $(cat $g/type)"
done
# vnet.ip=ADDR (tools/demo.sh --vm): an address the host can ping for
# vnet.wait seconds before the frames start.
ip=$(sed -n 's/.*vnet\.ip=\([0-9.]*\).*/\1/p' /proc/cmdline)
if [ -n "$ip" ] && [ -n "$ifc" ]; then
	ifconfig "$ifc" "$ip" netmask 255.255.255.0 up
	echo "VNET-VM: address $ip on $ifc"
	sleep "$(sed -n 's/.*vnet\.wait=\([0-9]*\).*/\1/p' /proc/cmdline)"
fi
rc=1
[ -n "$ifc" ] && { vnet-frames "$ifc" "$frames" 60; rc=$?; }
echo "VNET-VM: dmar faults $(dmesg | grep -c 'DMAR: \[DMA')"
echo "VNET-VM: exit $rc"
poweroff -f
INIT
	chmod +x "$_ird/init"
	(cd "$_ird" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$_w/initrd.gz"
}


#!/bin/sh
# Boot Debian's Linux 6.12 in QEMU (TCG) with an emulated Intel IOMMU and the
# edu DMA devices (five alone in their IOMMU groups, two sharing one
# behind a PCIe-to-PCI bridge), share the host's root read-only over 9p, chroot into it
# and run SCRIPT there (a path the guest can read: not under /tmp if the
# guest should see it, as the guest mounts its own /run). The serial console
# goes to LOG and to stdout. Exit status: the script's, 2 if the guest
# never reported one (the log says why), 77 if QEMU or the kernel is missing.
# Usage: vm.sh WORKDIR SCRIPT LOG [TIMEOUT_S]
set -u
work=$1 script=$2 log=$3 limit=${4:-900}
kver=$(ls /lib/modules 2>/dev/null | grep -- '-amd64$' | grep '^6\.12\.' | sort -V | tail -1)
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "vm: SKIP qemu-system-x86_64 is not installed (tools/setup.sh --kernel installs it)"
	exit 77
fi
if [ -z "$kver" ] || [ ! -f "/boot/vmlinuz-$kver" ]; then
	echo "vm: SKIP no Linux 6.12 image in /boot (tools/setup.sh --kernel installs it)"
	exit 77
fi
mkdir -p "$work/initramfs/bin" "$work/initramfs/mods"
ird=$work/initramfs
cp /bin/busybox "$ird/bin/busybox"
for m in fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p; do
	xz -dc "/lib/modules/$kver/kernel/$m.ko.xz" > "$ird/mods/$(basename "$m").ko"
done
cat > "$ird/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in netfs 9pnet 9pnet_virtio 9p; do
	insmod /mods/$m.ko || echo "IOASID-VM: cannot load $m"
done
mkdir -p /host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,ro hostroot /host; then
	echo "IOASID-VM: cannot mount the host root"
	poweroff -f
fi
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mount -t tmpfs run /host/run
mkdir -p /host/dev/shm /host/dev/pts
mount -t tmpfs shm /host/dev/shm
script=$(sed -n 's/.*ioasid\.script=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "IOASID-VM: kernel $(uname -r), running $script"
chroot /host /bin/sh -c "cd / && export TMPDIR=/run PATH=/usr/sbin:/usr/bin:/sbin:/bin && sh $script"
echo "IOASID-VM: exit $?"
poweroff -f
INIT
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initrd.gz"
# A boot can die before init under TCG (seen once in many boots: an int3
# Oops while the kernel patches its own text on the other CPU). That is
# the emulator, not the code under test, so such a boot is retried, up to
# three boots; a guest that reached init is never retried.
for attempt in 1 2 3; do
	echo "vm: booting $kver (TCG, intel-iommu, 7 edu: 5 alone, 2 sharing a group), attempt $attempt, log in $log"
	timeout "$limit" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 \
		-nographic -no-reboot -nic none -M q35,kernel-irqchip=split \
		-device intel-iommu,intremap=on,caching-mode=on \
		-device edu -device edu -device edu -device edu -device edu \
		-device pcie-pci-bridge,id=br0 -device edu,bus=br0,addr=1 -device edu,bus=br0,addr=2 \
		-kernel "/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 intel_iommu=on panic=-1 no_timer_check quiet ioasid.script=$script" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		< /dev/null 2>&1 | tr -d '\r' | tee "$log"
	grep -q 'IOASID-VM: kernel' "$log" && break
	cp "$log" "$log.boot$attempt"
	echo "vm: the guest died before init (log kept in $log.boot$attempt)"
done
rc=$(sed -n 's/^IOASID-VM: exit \([0-9]*\)$/\1/p' "$log" | tail -1)
if [ -z "$rc" ]; then
	echo "vm: the guest reported no exit status (timeout ${limit}s or crash); serial log: $log"
	exit 2
fi
exit "$rc"

#!/bin/sh
# The QEMU command line of the guests that run vnet-frames
# (tests/vhost/test_qemu.sh, tests/netd/test_netd_qemu.sh,
# tools/demo_vm.sh), in one place: TCG, q35 with a split irqchip, 512 MiB
# of guest memory in a shared memfd (vhost-user maps it), and a
# virtio-net device behind a PCIe root port (ATS and a modern-only device
# need one) on a vhost-user netdev. vectors=0: QEMU 7.2 under TCG crashes
# when vhost-user meets MSI-X, so the device uses INTx.
#
# Usage: vnet_qemu.sh KVER INITRD SOCK SMP CHARDEV NETDEV NET APPEND [ARG...]
#   CHARDEV, NETDEV, NET: options added to the chardev's (",server=on"),
#   the netdev's (",queues=2") and the device's (",iommu_platform=on");
#   APPEND: to the kernel command line; ARGs: to QEMU's (a vIOMMU device,
#   a -pidfile). Execs QEMU, so a caller's timeout or kill reaches it.
set -eu
kver=$1 initrd=$2 sock=$3 smp=$4 chr=$5 ndev=$6 net=$7 append=$8
shift 8
# A comma would end the chardev's path and start an option of QEMU's.
case $sock in *,*) echo "vnet_qemu.sh: socket path $sock has a comma" >&2; exit 2 ;; esac
# One TCG thread for all vCPUs: with a thread each (MTTCG), a guest of
# two CPUs died at boot, before any frame, with "Oops: int3" in
# sched_clock_cpu (a text-patching breakpoint another vCPU still ran:
# CI, 2026-12-04, strict-mq); one thread runs the vCPUs in turn.
exec qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp "$smp" -m 512 \
	-nographic -no-reboot -nic none -M q35,kernel-irqchip=split "$@" \
	-object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem \
	-chardev "socket,id=vu0,path=$sock$chr" -netdev "vhost-user,id=n0,chardev=vu0$ndev" \
	-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1 \
	-device "virtio-net-pci,netdev=n0,bus=rp0,vectors=0$net" \
	-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 no_timer_check quiet $append" \
	< /dev/null

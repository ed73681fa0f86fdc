#!/bin/sh
# Sourced by the guest-side scripts (kernel_suite.sh, kernel_bench.sh) with
# $ko set: loads VFIO (first, so that ioasid.ko's VFIO backend is tried
# before vfio_iommu_type1's), loads ioasid.ko and hands the edu devices to
# vfio-pci. Reports each step as a GUEST-TAP line; returns non-zero if the
# module did not load.
dmesg -C
modprobe vfio-pci && modprobe vfio_iommu_type1 ||
	echo "GUEST-TAP: not ok - load/vfio_modules"
if ! insmod "$ko"; then
	echo "GUEST-TAP: not ok - load/insmod"
	return 1
fi
echo "GUEST-TAP: ok - load/insmod"
[ -c /dev/ioasid ] && echo "GUEST-TAP: ok - load/dev_node" ||
	echo "GUEST-TAP: not ok - load/dev_node"
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] || continue
	echo vfio-pci > "$d/driver_override"
	[ -e "$d/driver" ] && echo "${d##*/}" > "$d/driver/unbind"
	echo "${d##*/}" > /sys/bus/pci/drivers_probe
	echo "GUEST-TAP: # edu ${d##*/} -> $(basename "$(readlink "$d/driver")"), group $(basename "$(readlink "$d/iommu_group")")"
done
return 0

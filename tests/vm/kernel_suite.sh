#!/bin/sh
# The kernel suite: build the modules, boot the VM once, and inside it load
# ioasid.ko and run the core test programs against the kernel backend, then
# unload it and fail on any WARNING, BUG, Oops or lockdep report in dmesg. The
# guests' TAP streams are merged into one, each test named
# "program/test". Usage: kernel_suite.sh SRC BUILD
set -u

# Copy stdin to stdout and to stderr. Not "tee /dev/stderr": when both are
# the same file, that opens it again at offset 0 and overwrites the TAP
# lines already written (a runner reading the file saw no "not ok").
both() {
	t=$(cat)
	printf '%s\n' "$t"
	printf '%s\n' "$t" >&2
}
src=$1 build=$2
work=$build/vm
mkdir -p "$work"
echo "TAP version 13"
if ! out=$(sh "$src/kernel/build.sh" "$build/kernel" 2>&1); then
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 - build ioasid.ko, ioasid_vdpa.ko and ioasid_mdma.ko"
	echo "1..1"
	exit 1
fi
cat > "$work/guest.sh" <<GUEST
#!/bin/sh
ko=$build/kernel/ioasid/ioasid.ko
. $src/tests/vm/guest_setup.sh || exit 1
run_prog() {	# NAME ENV... : one guest program, its TAP prefixed with NAME
	name=\$1
	shift
	env "\$@" > /run/\$name.out 2>&1
	rc=\$?
	sed "s|^|GUEST-\$name: |" /run/\$name.out
	[ \$rc -eq 0 ] || [ \$rc -eq 77 ] || echo "GUEST-TAP: not ok - \$name/exit_status # exited \$rc"
}
tap() {	# NAME FILE... : ok if the last command succeeded, else not ok and the files
	rc=\$?
	name=\$1
	shift
	if [ \$rc -eq 0 ]; then
		echo "GUEST-TAP: ok - \$name"
	else
		echo "GUEST-TAP: not ok - \$name"
		[ \$# -eq 0 ] || cat "\$@" 2>/dev/null | sed 's/^/GUEST-TAP: # /'
	fi
}
# The core suite, unchanged, against the module.
for t in attach map unmap batch uapi access dirty diff faults nest fault; do
	run_prog \$t IOASID_BACKEND=kernel $build/tests/test_\$t
done
# The nesting differential, shorter: the guest runs under TCG.
run_prog nest_diff IOASID_BACKEND=kernel IOASID_NEST_OPS=5000 $build/tests/test_nest_diff
run_prog resources IOASID_BACKEND=kernel $build/tests/test_resources
run_prog hostile IOASID_BACKEND=kernel $build/tests/test_hostile
run_prog vdpa IOASID_BACKEND=kernel $build/tests/test_vdpa
# ioasidctl's vdpa commands against the kernel's netlink interface.
modprobe vduse && $build/tools/ioasidctl vdpa list > /run/vdpa.list 2>&1 &&
   head -1 /run/vdpa.list | grep -q mgmtdev &&
   ! $build/tools/ioasidctl vdpa del ioasid-absent > /run/vdpa.del 2>&1 &&
   grep -q "no such device" /run/vdpa.del
tap vdpa/ioasidctl_vdpa /run/vdpa.list /run/vdpa.del
run_prog vfio IOASID_BACKEND=kernel VFIO_TEST_IOMMU=shim $build/tests/test_vfio
run_prog fpshim IOASID_BACKEND=kernel VFIO_TEST_IOMMU=shim VFIO_TEST_EDU=2 VFIO_TEST_FAULT_LOG=note $build/tests/test_fastpath_vfio
# The same type1 programs on the stock driver: the shim must behave alike,
# and the fast path's VFIO backend is meant for stock kernels.
echo 0 > /sys/module/ioasid/parameters/vfio_type1
run_prog stocktype IOASID_BACKEND=kernel VFIO_TEST_IOMMU=type1 VFIO_TEST_EDU=3 VFIO_TEST_FAULT_LOG=note $build/tests/test_vfio
run_prog fptype1 IOASID_BACKEND=kernel VFIO_TEST_IOMMU=type1 VFIO_TEST_EDU=4 VFIO_TEST_FAULT_LOG=note $build/tests/test_fastpath_vfio
# The mdev DMA engine (kernel/mdma) on the stock type1 and on the shim: its
# transfers go through vfio_dma_rw and vfio_pin_pages of the container's
# backend.
if modprobe mdev && insmod $build/kernel/mdma/ioasid_mdma.ko; then
	echo "GUEST-TAP: ok - load/insmod_mdma"
	run_prog mdev IOASID_BACKEND=kernel VFIO_TEST_IOMMU=type1 $build/tests/test_mdev
	# The same mdev transfers, pins and unmaps on type1, then on the shim.
	run_prog mdevtype IOASID_BACKEND=kernel VFIO_TEST_IOMMU=type1 VFIO_TEST_EDU=2 $build/tests/test_mdev_shim
	echo 1 > /sys/module/ioasid/parameters/vfio_type1
	run_prog mdevshim IOASID_BACKEND=kernel VFIO_TEST_IOMMU=shim VFIO_TEST_EDU=2 $build/tests/test_mdev_shim
	rmmod ioasid_mdma
	tap load/rmmod_mdma
else
	echo "GUEST-TAP: not ok - load/insmod_mdma"
fi
echo 1 > /sys/module/ioasid/parameters/vfio_type1
# What GET_INFO reports must be what the stock driver reports.
same_lines() {	# NAME FILE1 FILE2 PATTERN
	a=\$(grep -E "\$4" "\$2")
	b=\$(grep -E "\$4" "\$3")
	if [ -n "\$a" ] && [ "\$a" = "\$b" ]; then
		echo "GUEST-TAP: ok - compat/\$1"
	else
		echo "GUEST-TAP: not ok - compat/\$1"
		printf '%s\n--\n%s\n' "\$a" "\$b" | sed 's/^/GUEST-TAP: # /'
	fi
}
same_lines get_info_matches_type1 /run/vfio.out /run/stocktype.out '# (iova_pgsizes|iova range)'
# Dirty tracking: the same bitmaps, capabilities and layout on both.
same_lines get_info_caps_match_type1 /run/vfio.out /run/stocktype.out '# (migration|info cap|info argsz)'
same_lines dirty_edu_matches_type1 /run/vfio.out /run/stocktype.out '# type1-dirty '
if [ -e /run/mdevtype.out ]; then
	same_lines dirty_mdev_matches_type1 /run/mdevshim.out /run/mdevtype.out '# type1-dirty '
fi
# The vDPA adaptor, after the VFIO runs (QEMU records DMAR faults only until
# its first collapsed record, and this program causes one).
if modprobe vdpa && modprobe vhost_iotlb && insmod $build/kernel/ioasid/ioasid_vdpa.ko; then
	echo "GUEST-TAP: ok - load/insmod_vdpa_adaptor"
	grep -c ' vhost-vdpa\$' /proc/devices | sed 's/^/GUEST-TAP: # char regions named vhost-vdpa: /'
	run_prog adaptor IOASID_BACKEND=kernel $build/tests/test_vdpa_adaptor
	# ioasidctl's sysfs half: bind and node name the missing device.
	! $build/tools/ioasidctl vdpa bind ioasid-absent ioasid_vdpa > /run/vdpa.bind 2>&1 &&
	   grep -q "no such device" /run/vdpa.bind &&
	   ! $build/tools/ioasidctl vdpa node ioasid-absent > /run/vdpa.node 2>&1 &&
	   grep -q "no such device" /run/vdpa.node
	tap adaptor/ioasidctl_vdpa_bind /run/vdpa.bind /run/vdpa.node
	rmmod ioasid_vdpa
	tap load/rmmod_vdpa_adaptor
else
	echo "GUEST-TAP: not ok - load/insmod_vdpa_adaptor"
fi
rmmod ioasid
tap load/rmmod
if dmesg | grep -E 'WARNING:|BUG:|kernel BUG at|general protection|lockdep|RCU stall|Oops' > /run/bad; then
	sed 's/^/GUEST-TAP: # /' /run/bad
	echo "GUEST-TAP: not ok - load/dmesg_clean"
else
	echo "GUEST-TAP: ok - load/dmesg_clean"
fi
GUEST
sh "$src/tests/vm/vm.sh" "$work" "$work/guest.sh" "$work/serial.log" > "$work/vm.out" 2>&1
vrc=$?
if [ $vrc -eq 77 ]; then
	echo "1..0 # SKIP $(grep '^vm: SKIP' "$work/vm.out" | sed 's/^vm: SKIP //')"
	exit 0
fi
grep '^vm: the guest died' "$work/vm.out" | sed 's/^/# /'
# Merge: every guest "ok"/"not ok" line becomes one numbered test here.
awk '
	/^GUEST-TAP: (not )?ok/ {
		n++; sub(/^GUEST-TAP: /, ""); line = $0
		sub(/ - /, " " n " - ", line); print line; next }
	/^GUEST-TAP: #/ { sub(/^GUEST-TAP: /, ""); print; next }
	/^GUEST-[a-z]+: (not )?ok [0-9]+ - / {
		prog = $1; sub(/^GUEST-/, "", prog); sub(/:$/, "", prog)
		sub(/^GUEST-[a-z]+: /, "")
		ok = ($1 == "not") ? "not ok" : "ok"
		sub(/^(not )?ok [0-9]+ - /, "")
		n++; print ok " " n " - " prog "/" $0; next }
	/^GUEST-[a-z]+: #/ { sub(/^GUEST-[a-z]+: /, ""); print; next }
	END { if (!n) { print "not ok 1 - guest produced no results"; n = 1 }
	      print "1.." n }
' "$work/serial.log"
if [ $vrc -ne 0 ] || grep -q '^GUEST-[A-Za-z]*: not ok' "$work/serial.log"; then
	# Also on stderr, which is what meson (and so CI) shows of a failure.
	{
		echo "# the guest exited $vrc; the last of the serial log ($work/serial.log):"
		grep '^GUEST-[A-Za-z]*: not ok' "$work/serial.log" | sed 's/^/#   /'
		tail -60 "$work/serial.log" | sed 's/^/#   /'
	} | both
	exit 1
fi
exit 0

#!/bin/sh
# The kernel benchmarks: build the modules, boot the VM once, and run one
# of them there:
#   map   "ioasid-bench map --backend kernel": /dev/ioasid against stock
#         vfio_iommu_type1 on an edu device -> BUILD/vm/bench-kernel.json
#   vdpa  "ioasid-bench vdpa": ioasid_vdpa against stock vhost_vdpa on one
#         VDUSE device -> BUILD/vm/bench-vdpa.json
#   nest  "ioasid-bench nest": a guest page-table change as per-page stock
#         type1 unmap+map against one invalidation of a nested ioasid, on
#         one edu device -> BUILD/vm/bench-nest.json
# Prints the JSON lines. Usage: kernel_bench.sh SRC BUILD [--quick] [map|vdpa|nest]
set -u
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd)
quick= which=map
for a in "${3:-}" "${4:-}"; do
	case $a in
	--quick) quick=--quick ;;
	map|vdpa|nest) which=$a ;;
	esac
done
work=$build/vm
mkdir -p "$work"
sh "$src/kernel/build.sh" "$build/kernel" || exit 1
if [ $which = map ]; then
	out=$work/bench-kernel.json
	run="$build/bench/ioasid-bench map --backend kernel --json $quick"
	load=:
elif [ $which = nest ]; then
	out=$work/bench-nest.json
	run="$build/bench/ioasid-bench nest --json $quick"
	load=:
else
	out=$work/bench-vdpa.json
	run="$build/bench/ioasid-bench vdpa --json $quick"
	load="modprobe vduse && modprobe vhost_vdpa && insmod $build/kernel/ioasid/ioasid_vdpa.ko"
fi
cat > "$work/bench.sh" <<GUEST
#!/bin/sh
ko=$build/kernel/ioasid/ioasid.ko
. $src/tests/vm/guest_setup.sh || exit 1
$load || echo "GUEST-BENCH: {\"error\":\"cannot load the vDPA modules\"}"
$run 2>&1 | sed 's/^/GUEST-BENCH: /'
GUEST
sh "$src/tests/vm/vm.sh" "$work" "$work/bench.sh" "$work/bench-serial.log" 3600 > "$work/bench-vm.out" 2>&1
vrc=$?
sed -n 's/^GUEST-BENCH: //p' "$work/bench-serial.log" > "$out"
cat "$out"
if [ $vrc -ne 0 ] || ! grep -q '"check"' "$out"; then
	echo "kernel_bench: no results (guest exit $vrc); serial log: $work/bench-serial.log" >&2
	tail -30 "$work/bench-serial.log" >&2
	exit 1
fi

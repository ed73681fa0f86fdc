#!/bin/sh
# The kernel map benchmark: build the module, boot the VM once, and run
# "ioasid-bench map --backend kernel --json" there (/dev/ioasid against
# stock vfio_iommu_type1 on an edu device). Prints the JSON lines and
# writes them to BUILD/vm/bench-kernel.json.
# Usage: kernel_bench.sh SRC BUILD [--quick]
set -u
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd) quick=${3:-}
work=$build/vm
mkdir -p "$work"
sh "$src/kernel/build.sh" "$build/kernel" || exit 1
cat > "$work/bench.sh" <<GUEST
#!/bin/sh
ko=$build/kernel/ioasid/ioasid.ko
. $src/tests/vm/guest_setup.sh || exit 1
$build/bench/ioasid-bench map --backend kernel --json $quick 2>&1 | sed 's/^/GUEST-BENCH: /'
GUEST
sh "$src/tests/vm/vm.sh" "$work" "$work/bench.sh" "$work/bench-serial.log" 3600 > "$work/bench-vm.out" 2>&1
vrc=$?
sed -n 's/^GUEST-BENCH: //p' "$work/bench-serial.log" > "$work/bench-kernel.json"
cat "$work/bench-kernel.json"
if [ $vrc -ne 0 ] || ! grep -q '"check"' "$work/bench-kernel.json"; then
	echo "kernel_bench: no results (guest exit $vrc); serial log: $work/bench-serial.log" >&2
	tail -30 "$work/bench-serial.log" >&2
	exit 1
fi

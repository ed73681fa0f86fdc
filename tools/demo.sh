#!/bin/sh
# The main job on the embedded engine: no kernel module, no VM, no hugepages.
# Installs the build tools, builds, and runs ioasid-demo: packets on a
# virtqueue, every descriptor translated through the fast path while buffer
# pools are remapped, with translation on and off. Results go to
# build/demo/ (demo.json, demo.png). Options are passed on (--seconds N).
#
# With --vm, the data path as a user runs it instead: ioasid-netd serves a
# QEMU guest's network behind a vIOMMU (tools/demo_vm.sh; as root, with
# QEMU and Debian's Linux 6.12 image, which tools/setup.sh --kernel
# installs). Options after --vm are passed on (--frames N, --lazy).
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = --vm ]; then
	shift
	sh tools/setup.sh --kernel
	[ -d build ] || meson setup build >/dev/null
	ninja -C build >/dev/null
	exec sh tools/demo_vm.sh build "$PWD" "$@"
fi
sh tools/setup.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec build/tools/ioasid-demo --out build/demo "$@"

#!/bin/sh
# The main job on the embedded engine: no kernel module, no VM, no hugepages.
# Installs the build tools, builds, and runs ioasid-demo: packets on a
# virtqueue, every descriptor translated through the fast path while buffer
# pools are remapped, with translation on and off. Results go to
# build/demo/ (demo.json, demo.png). Options are passed on (--seconds N).
set -eu
cd "$(dirname "$0")/.."
sh tools/setup.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec build/tools/ioasid-demo --out build/demo "$@"

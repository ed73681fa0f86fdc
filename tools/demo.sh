#!/bin/sh
# The main job on the embedded engine: no kernel module, no VM, no hugepages.
# Installs the build tools, builds, and runs the Phase 1 scenario.
set -eu
cd "$(dirname "$0")/.."
sh tools/setup.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec build/tools/ioasidctl run examples/phase1.scn

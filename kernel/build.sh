#!/bin/sh
# Build the out-of-tree modules against a kernel's headers, without
# writing into the source tree: sources are linked into OUT and built there.
# Usage: kernel/build.sh OUT [KERNEL_VERSION]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1" && out=$(cd "$1" && pwd)
kver=${2:-$(ls /usr/src | sed -n 's/^linux-headers-\(6\.12\..*-amd64\)$/\1/p' | sort -V | tail -1)}
kdir=/usr/src/linux-headers-$kver
[ -d "$kdir" ] || { echo "kernel/build.sh: no headers at $kdir" >&2; exit 1; }
mkdir -p "$out/ioasid"
# A source renamed or removed since the last build leaves no dangling link.
for l in "$out"/ioasid/*.c; do
	[ -e "$l" ] || rm -f "$l"
done
for f in "$src"/core/*.c "$src"/kernel/ioasid/*.c "$src"/kernel/ioasid/Kbuild; do
	ln -sf "$f" "$out/ioasid/$(basename "$f")"
done
make -s -C "$kdir" M="$out/ioasid" IOASID_SRC="$src" modules
# The mdev DMA engine, a module of its own (kernel/mdma).
mkdir -p "$out/mdma"
for f in "$src"/kernel/mdma/*.[ch] "$src"/kernel/mdma/Kbuild; do
	ln -sf "$f" "$out/mdma/$(basename "$f")"
done
make -s -C "$kdir" M="$out/mdma" modules

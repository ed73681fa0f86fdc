#!/bin/sh
# Optional: the kernel's checkpatch.pl over the module's sources
# (kernel/ioasid/*.c and *.h, or the files given), one summary line per
# file and the findings. Advisory only: it always exits 0, and tools/test.sh
# does not run it.
#
# checkpatch.pl is taken from $CHECKPATCH, else from an unpacked kernel
# source tree under /usr/src, else unpacked (with spelling.txt and
# const_structs.checkpatch, nothing else) from Debian's linux-source-6.12
# tarball (apt-get install linux-source-6.12) into a cache directory.
# Without any of them it says so and stops.
#
# Known, and left (15 warnings): main.c exports core/ functions (userspace
# builds core/ too, so the exports cannot follow them: 8 EXPORT_SYMBOL);
# ioasid_kernel.h picks the symbol namespace's spelling and vfio_compat.h
# guards its copied layout by LINUX_VERSION_CODE, as an out-of-tree module
# must (2 and 4); ioasid_host.h gives core/ its host's lock type as a
# typedef, and its wait type likewise, the names the userspace host defines (2).
# Usage: tools/checkpatch.sh [--strict] [FILE...]
set -u
cd "$(dirname "$0")/.."
opts=""
if [ "${1:-}" = --strict ]; then
	opts=--strict
	shift
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ioasid-checkpatch
cp=${CHECKPATCH:-}
if [ -z "$cp" ]; then
	for c in /usr/src/linux-source-*/scripts/checkpatch.pl \
		 "$cache"/linux-source-*/scripts/checkpatch.pl; do
		[ -f "$c" ] && cp=$c && break
	done
fi
if [ -z "$cp" ]; then
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
	if [ -z "$tarball" ]; then
		echo "checkpatch: skipped: no checkpatch.pl (set CHECKPATCH, or apt-get install linux-source-6.12)"
		exit 0
	fi
	top=$(basename "$tarball" .tar.xz)
	echo "checkpatch: unpacking checkpatch.pl from $tarball into $cache"
	mkdir -p "$cache" &&
	tar -C "$cache" -xJf "$tarball" "$top/scripts/checkpatch.pl" \
	    "$top/scripts/spelling.txt" "$top/scripts/const_structs.checkpatch" ||
		{ echo "checkpatch: skipped: cannot unpack $tarball"; exit 0; }
	cp=$cache/$top/scripts/checkpatch.pl
fi
[ $# -gt 0 ] || set -- kernel/ioasid/*.c kernel/ioasid/*.h
echo "checkpatch: $cp $opts"
for f in "$@"; do
	out=$(perl "$cp" --no-tree $opts --terse --show-types -f "$f" 2>&1)
	total=$(perl "$cp" --no-tree $opts -f "$f" 2>&1 | sed -n 's/^total: //p')
	echo "$f: ${total:-checkpatch did not run}"
	echo "$out" | grep -E "^$f:[0-9]+: " | sed 's/^/  /'
done
exit 0

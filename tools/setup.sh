#!/bin/sh
# Install what building and testing ioasid needs, from Debian 12's archive.
# Idempotent; run as root (CI runs it on a fresh machine).
# With --kernel, also what the kernel suite needs: QEMU, the busybox
# initramfs tools, Debian 12's Linux 6.12 headers and the kernel image of
# exactly the headers' version (the guest boots it; the host keeps its own);
# the netd suite boots the same guest and needs iproute2 for its TAP port.
set -eu
pkgs="meson ninja-build pkg-config gcc libc6-dev clang libclang-rt-14-dev python3 liburcu-dev libdpdk-dev dpdk-dev gnuplot-nox"
[ "${1:-}" = "--kernel" ] &&
	pkgs="$pkgs qemu-system-x86 busybox-static cpio kmod xz-utils linux-headers-6.12-amd64 pahole iproute2"

missing() {
	m=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || m="$m $p"
	done
	echo "$m"
}

install() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages:$* (run as root to install them)" >&2
		exit 1
	fi
	echo "setup: installing$*"
	export DEBIAN_FRONTEND=noninteractive
	[ -n "${setup_updated:-}" ] || apt-get update -qq
	setup_updated=1
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

m=$(missing $pkgs)
[ -z "$m" ] || install $m
echo "setup: build tools ready ($(meson --version 2>/dev/null || echo '?') meson, $(gcc -dumpversion) gcc, clang $(clang -dumpversion))"
[ "${1:-}" = "--kernel" ] || exit 0

# The image must match the headers the module is built against.
kver=$(ls /usr/src | sed -n 's/^linux-headers-\(6\.12\..*-amd64\)$/\1/p' | sort -V | tail -1)
[ -n "$kver" ] || { echo "setup: no Linux 6.12 headers under /usr/src" >&2; exit 1; }
m=$(missing "linux-image-$kver-unsigned")
[ -z "$m" ] || install $m
echo "setup: kernel $kver (headers and image), $(qemu-system-x86_64 --version | head -1)"

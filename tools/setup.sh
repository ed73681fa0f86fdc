#!/bin/sh
# Install what building and testing ioasid needs, from Debian 12's archive.
# Idempotent; run as root (CI runs it on a fresh machine).
set -eu
pkgs="meson ninja-build pkg-config gcc libc6-dev clang libclang-rt-14-dev python3 liburcu-dev libdpdk-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "setup: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "setup: build tools ready ($(meson --version 2>/dev/null || echo '?') meson, $(gcc -dumpversion) gcc, clang $(clang -dumpversion))"

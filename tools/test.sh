#!/bin/sh
# Every test: the core, fastpath and vhost suites in a normal build and
# again under AddressSanitizer and UndefinedBehaviorSanitizer (gcc); the
# fastpath and vhost suites under ThreadSanitizer (gcc); the core, vhost
# and netd suites in a clang build with libFuzzer, which also fuzzes the
# ioctl decoder, the descriptor-table walker, the vhost-user protocol and
# ioasid-netd's control requests for FUZZ_SECONDS each (default 60; the
# netd suite's QEMU boots are not in that build); the kernel suite
# (tests/vm: the module in a QEMU guest) and the netd suite (ioasid-netd
# serving a QEMU guest) in the normal build.
# Ends with one line "N passed, N failed, N skipped" counting subtests.
set -u
cd "$(dirname "$0")/.."
sh tools/setup.sh --kernel || exit 1
fuzz_seconds=${FUZZ_SECONDS:-60}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
status=0
logs=""

run() {	# NAME "SUITES" SETUP-ARGS...
	name=$1 suites=$2
	shift 2
	dir=build-$name
	echo "== $name: meson setup $*"
	if [ ! -d "$dir" ]; then
		meson setup "$dir" "$@" > "$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; status=1; return; }
	fi
	ninja -C "$dir" > "$dir.build.log" 2>&1 ||
		{ tail -40 "$dir.build.log"; status=1; return; }
	set --
	for s in $suites; do set -- "$@" --suite "$s"; done
	meson test -C "$dir" "$@" --print-errorlogs --num-processes 2 ||
		status=1
	logs="$logs $dir/meson-logs/testlog.json"
}

export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
run plain "core fastpath vhost kernel netd"
run asan "core fastpath vhost" -Db_sanitize=address,undefined
run tsan "fastpath vhost" -Db_sanitize=thread
CC=clang run fuzz "core vhost netd" -Dfuzz=true -Dfuzz_seconds="$fuzz_seconds" \
	-Db_sanitize=address,undefined -Db_lundef=false
python3 tools/tap_summary.py $logs || status=1
exit $status

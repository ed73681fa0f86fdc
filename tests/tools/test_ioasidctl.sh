#!/bin/sh
# ioasidctl: bad input gives one line naming the problem and a non-zero exit, never a crash.
# Usage: test_ioasidctl.sh IOASIDCTL EXAMPLES_DIR
set -u
ctl=$1
examples=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

echo "TAP version 13"

# case NAME WANT_EXIT PATTERN SCENARIO-TEXT
case_() {
	name=$1 want=$2 pattern=$3
	n=$((n + 1))
	printf '%s\n' "$4" > "$tmp/s.scn"
	"$ctl" run "$tmp/s.scn" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	lines=$(wc -l < "$tmp/err")
	if [ "$rc" -ne "$want" ]; then
		echo "# exit $rc, expected $want; stderr:"; sed 's/^/#   /' "$tmp/err"
		echo "not ok $n - $name"; failed=$((failed + 1)); return
	fi
	if [ "$want" -ne 0 ] && [ "$lines" -ne 1 ]; then
		echo "# expected one line on stderr, got $lines:"; sed 's/^/#   /' "$tmp/err"
		echo "not ok $n - $name"; failed=$((failed + 1)); return
	fi
	if ! grep -q -- "$pattern" "$tmp/err" "$tmp/out"; then
		echo "# output lacks '$pattern'; stderr:"; sed 's/^/#   /' "$tmp/err"
		echo "not ok $n - $name"; failed=$((failed + 1)); return
	fi
	echo "# $(cat "$tmp/err")"
	echo "ok $n - $name"
}

case_ unknown_command 2 "s.scn:1: unknown command 'mapp'" 'mapp a 0 b 4K'
case_ unknown_ioasid 2 "s.scn:2: unknown ioasid 'nope'" 'buffer b 64K
map nope 0 b 4K rw'
case_ wrong_kind 2 "'b' is a buffer, not a ioasid" 'buffer b 64K
map b 0 b 4K rw'
case_ bad_number 2 "iova '0xzz' is not a number" 'alloc a
buffer b 64K
map a 0xzz b 4K'
case_ misaligned 1 "s.scn:5: map: iova 0x1001 is not aligned to the smallest page size 0x1000 (EINVAL)" 'alloc a
buffer b 64K
device d pgsizes=4K aperture=0-0xffffffff
attach d a
map a 0x1001 b 4K rw'
case_ not_attached 1 "has no device attached" 'alloc a
buffer b 64K
map a 0 b 4K rw'
case_ unclosed_batch 2 "batch not closed by 'end'" 'alloc a
buffer b 64K
batch map a
  0 b 4K'
case_ expect_unmet 1 "expected EEXIST, but the command succeeded" 'alloc a
buffer b 64K
device d
attach d a
expect EEXIST map a 0 b 4K rw'
case_ unknown_errno 2 "unknown errno 'EWHAT'" 'expect EWHAT alloc a'
case_ duplicate_name 2 "'a' is already declared" 'alloc a
alloc a'
case_ bad_key 2 "unexpected 'color=red'" 'device d color=red'
case_ option_late 2 "'option' must come before" 'alloc a
option max_mappings=4'
case_ offset_past_end 2 "is past the end of buffer" 'alloc a
buffer b 64K
map a 0 b+128K 4K'
case_ long_words 2 "more than 24 words" 'alloc a b c d e f g h i j k l m n o p q r s t u v w x y z'
case_ huge_number 2 "is not a number" 'buffer b 99999999999999999999999'

# A file that cannot be read, and a binary file.
n=$((n + 1))
"$ctl" run "$tmp/missing.scn" > /dev/null 2> "$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "cannot open" "$tmp/err"; then echo "ok $n - missing_file"; else echo "not ok $n - missing_file"; failed=$((failed + 1)); fi
n=$((n + 1))
head -c 4096 /dev/urandom > "$tmp/bin.scn"
"$ctl" run "$tmp/bin.scn" > /dev/null 2> "$tmp/err"; rc=$?
if [ $rc -eq 2 ] || [ $rc -eq 1 ]; then echo "ok $n - binary_file"; else echo "# exit $rc"; echo "not ok $n - binary_file"; failed=$((failed + 1)); fi

# Every shipped example runs to completion.
for ex in "$examples"/*.scn; do
	n=$((n + 1))
	if "$ctl" run "$ex" > "$tmp/out" 2> "$tmp/err" && grep -q '^summary:' "$tmp/out"; then
		echo "ok $n - example $(basename "$ex")"
	else
		sed 's/^/#   /' "$tmp/err"
		echo "not ok $n - example $(basename "$ex")"; failed=$((failed + 1))
	fi
done
echo "1..$n"
[ $failed -eq 0 ]

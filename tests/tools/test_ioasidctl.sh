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
case_ unknown_errno 2 "unknown errno 'EWHAT' (one of .*EINVAL" 'expect EWHAT alloc a'
case_ errno_unnamed 2 "unknown errno 'E?'" 'expect E? alloc a'
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
case_ usage_words 2 "s.scn:1: usage: buffer NAME SIZE" 'buffer b'
case_ map_two_perms 2 "unexpected 'w'" 'alloc a
buffer b 64K
map a 0 b 4K r w'
case_ nested_expect 2 "cannot take another 'expect'" 'expect EINVAL expect EINVAL alloc a'
# Phase 2 commands: bad words are parse errors, refused calls the engine's.
case_ alloc_bad_option 2 "unexpected 'nested' (nest-parent or nested=PARENT)" 'alloc a nested'
case_ alloc_unknown_parent 2 "unknown ioasid 'p'" 'alloc a nested=p'
case_ alloc_not_parent 1 "alloc: .*(EINVAL)" 'alloc p
alloc a nested=p'
case_ pte_misaligned 2 "entry at 'b+4' is not 8-byte aligned" 'buffer b 64K
pte b+4 0x1000 p'
case_ pte_past_end 2 "entry at 'b+65536' ends past buffer 'b'" 'buffer b 64K
pte b+65528 0 p
pte b+65536 0 p'
case_ pte_bad_bit 2 "unexpected 'x' (bits: p, w, u, ps)" 'buffer b 64K
pte b 0x1000 p x'
case_ bind_bad_width 2 "unexpected 'width=39'" 'alloc a
bind a 0x1000 width=39'
case_ bind_not_nested 1 "bind: .*(EINVAL)" 'buffer b 64K
device d
alloc a
attach d a
map a 0 b 64K rw
bind a 0'
case_ invalidate_half_range 2 "usage: invalidate IOASID \[IOVA PAGES \[leaf\]\]" 'alloc a
invalidate a 0x1000'

# Errno names are libioasid's: these parse (alloc then succeeds, so the
# expectation is unmet: exit 1, not the parse error's 2), and so does
# every name the refusal of an unknown one lists.
for e in EOPNOTSUPP EOVERFLOW EACCES; do
	case_ "expect_$e" 1 "expected $e, but the command succeeded" "expect $e alloc a"
done
n=$((n + 1))
printf 'expect EWHAT alloc a\n' > "$tmp/s.scn"
"$ctl" run "$tmp/s.scn" > /dev/null 2> "$tmp/err"
names=$(sed -n 's/.*(one of \(.*\))$/\1/p' "$tmp/err" | tr -d ,)
bad=""
for e in $names; do
	printf 'expect %s alloc a\n' "$e" > "$tmp/s.scn"
	"$ctl" run "$tmp/s.scn" > /dev/null 2> "$tmp/err"
	[ $? -eq 1 ] && grep -q "expected $e, but" "$tmp/err" || bad="$bad $e"
done
if [ -n "$names" ] && [ -z "$bad" ]; then
	echo "# $(echo $names | wc -w) names: $names"
	echo "ok $n - errno_names_parse"
else
	echo "# listed: '$names'; refused:$bad"
	echo "not ok $n - errno_names_parse"; failed=$((failed + 1))
fi

# The tool's own command line. cli NAME WANT_EXIT PATTERN ARGS...: an
# error is one line on stderr, nothing on stdout.
cli() {
	name=$1 want=$2 pattern=$3
	shift 3
	n=$((n + 1))
	"$ctl" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ] || [ "$(wc -l < "$tmp/err")" -ne 1 ] ||
	   [ -s "$tmp/out" ] || ! grep -q -- "$pattern" "$tmp/err"; then
		echo "# exit $rc, expected $want and one line with '$pattern':"
		sed 's/^/#   /' "$tmp/out" "$tmp/err"
		echo "not ok $n - $name"; failed=$((failed + 1)); return
	fi
	echo "# $(cat "$tmp/err")"
	echo "ok $n - $name"
}
# Fault queue commands: their own errors.
case_ faultq_no_bg 2 "s.scn:1: no access in the background" 'wait'
case_ faultq_bad_answer 2 "s.scn:2: answer 'maybe' must be success or invalid" 'faultq q
respond q 1 maybe'
case_ faultq_kind 2 "s.scn:2: 'q' is a fault queue, not a ioasid" 'faultq q
faultq-detach q'
case_ faultq_wait_ok 1 "s.scn:7: expected ETIMEDOUT, but read d @0x0 succeeded" 'buffer b 64K
device d
alloc a
attach d a
map a 0 b 4K
background read d 0 8
wait ETIMEDOUT'
case_ faultq_no_answer 1 "(ETIMEDOUT)" 'buffer b 64K
device d
alloc a
attach d a
faultq q timeout=50
faultq-attach a q
background read d 0 8
wait'

cli cli_unknown_command 2 "unknown command 'frobnicate'" frobnicate
cli cli_unknown_vdpa_command 2 "unknown command 'vdpa frob'" vdpa frob
cli cli_no_command 2 "usage: ioasidctl COMMAND"
cli cli_run_words 2 "usage: ioasidctl run \[--backend embedded|kernel\] SCENARIO" run a b
cli cli_vdpa_words 2 "usage: ioasidctl vdpa add NAME MGMTDEV" vdpa add x
cli cli_bad_backend 2 "backend 'foo' must be embedded or kernel" run --backend foo x.scn
cli cli_netd_words 2 "usage: ioasidctl netd stats --control PATH" netd stats
cli cli_netd_option 2 "usage: ioasidctl netd reset --control PATH" netd reset --socket x
cli cli_netd_unreachable 1 "netd ports: cannot reach $tmp/none" netd ports --control "$tmp/none"
cli cli_netd_add_words 2 "usage: ioasidctl netd add --control PATH" netd add --control x --vhost
cli cli_netd_add_option 2 "usage: ioasidctl netd add --control PATH" netd add --control x --frob a=b
cli cli_netd_add_odd 2 "usage: ioasidctl netd add --control PATH" netd add --control x --vhost a=b --xconnect
cli cli_netd_add_peer_option 2 "usage: ioasidctl netd add --control PATH" netd add --control x --eth a=b --peer c
cli cli_netd_add_quote 2 "the protocol has no escapes" netd add --control x --vhost 'a="b'
cli cli_netd_remove_words 2 "usage: ioasidctl netd remove --control PATH NAME" netd remove --control x
cli cli_netd_remove_unreachable 1 "netd remove: cannot reach $tmp/none" netd remove --control "$tmp/none" v0

# help lists every command, each on a line of its own, and nothing else.
commands="run|vdpa list|vdpa add|vdpa del|vdpa bind|vdpa node|netd stats|netd ports|netd reset|netd add|netd remove|help|option|buffer|device|alloc|pte|bind|unbind|invalidate|attach|detach|destroy|map|unmap|unmap-all|batch|write|read|query|info|mappings|stats|free|faultq|faultq-attach|faultq-detach|background|faults|respond|wait|expect"
n=$((n + 1))
"$ctl" help > "$tmp/help" 2> "$tmp/err"; rc=$?
missing=""
old_ifs=$IFS; IFS='|'
for c in $commands; do
	grep -q "^  $c\( \|\$\)" "$tmp/help" || missing="$missing '$c'"
done
IFS=$old_ifs
rows=$(grep -c '^  [a-z]' "$tmp/help")
want=$(echo "$commands" | tr '|' '\n' | wc -l)
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && [ -z "$missing" ] && [ "$rows" -eq "$want" ]; then
	echo "# $rows commands"
	echo "ok $n - help_lists_commands"
else
	echo "# exit $rc; missing:$missing; $rows rows, expected $want"
	sed 's/^/#   /' "$tmp/help" "$tmp/err"
	echo "not ok $n - help_lists_commands"; failed=$((failed + 1))
fi
# ... and a scenario knows every scenario command help lists.
n=$((n + 1))
unknown=""
for c in $(sed -n '/^Scenario commands/,$s/^  \([a-z][a-z-]*\).*/\1/p' "$tmp/help"); do
	printf '%s\n' "$c" > "$tmp/s.scn"
	"$ctl" run "$tmp/s.scn" > /dev/null 2> "$tmp/err"
	grep -q "unknown command" "$tmp/err" && unknown="$unknown $c"
done
if [ -z "$unknown" ]; then echo "ok $n - help_commands_run"; else echo "# unknown:$unknown"; echo "not ok $n - help_commands_run"; failed=$((failed + 1)); fi
n=$((n + 1))
"$ctl" --help > "$tmp/help2" 2>&1
if [ $? -eq 0 ] && cmp -s "$tmp/help" "$tmp/help2"; then echo "ok $n - help_option"; else echo "not ok $n - help_option"; failed=$((failed + 1)); fi

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

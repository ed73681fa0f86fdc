#!/bin/sh
# Every installed shared library exports exactly the global names of its
# version script: nothing else (an internal symbol that leaked), every
# export tagged with one of the script's version nodes (the script was
# applied), and every name the script lists defined (no stale or mistyped
# entry).
# Usage: test_exports.sh LIBRARY VERSION_SCRIPT [LIBRARY VERSION_SCRIPT...]
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

echo "TAP version 13"

if [ $# -eq 0 ] || [ $(($# % 2)) -ne 0 ]; then
	echo "# usage: $0 LIBRARY VERSION_SCRIPT [LIBRARY VERSION_SCRIPT...]"
	echo "not ok 1 - arguments"
	echo "1..1"
	exit 1
fi

result() {	# OK NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# The version script's node names (nodes) and global names (globals), one
# a line, sorted: comments removed, then a walk over the tokens
# NODE { global: a; b; local: *; } [PARENT] ;
parse_map() {	# MAP
	tr '\n' ' ' < "$1" |
	sed -E 's#/\*([^*]|\*+[^*/])*\*+/# #g' |
	sed -E 's/([{};])/ \1 /g; s/(global|local)[[:space:]]*:/ \1: /g' |
	tr -s ' \t' '\n\n' |
	awk -v nodes="$tmp/nodes" -v globals="$tmp/globals" '
		$0 == "" { next }
		state == "out" || state == "" {
			if ($0 == "{") { state = "in"; mode = ""; next }
			if ($0 == ";") next
			print $0 > nodes; next
		}
		state == "in" {
			if ($0 == "}") { state = "after"; next }
			if ($0 == "global:") { mode = "g"; next }
			if ($0 == "local:") { mode = "l"; next }
			if ($0 == ";") next
			if (mode == "g") print $0 > globals
			next
		}
		state == "after" {	# a parent node name, then ";"
			if ($0 == ";") state = "out"
			next
		}'
	touch "$tmp/nodes" "$tmp/globals"
	sort -u -o "$tmp/nodes" "$tmp/nodes"
	sort -u -o "$tmp/globals" "$tmp/globals"
}

while [ $# -ge 2 ]; do
	lib=$1 map=$2
	shift 2
	name=$(basename "$lib")
	rm -f "$tmp/nodes" "$tmp/globals"
	if [ ! -r "$lib" ] || [ ! -r "$map" ]; then
		echo "# cannot read $lib or $map"
		result 1 "$name: exports only its version script's globals"
		result 1 "$name: every export has a version node of its script"
		result 1 "$name: every global of its script is exported"
		continue
	fi
	parse_map "$map"
	if ! nm -D --defined-only "$lib" > "$tmp/nm" 2> "$tmp/nm.err"; then
		sed 's/^/# /' "$tmp/nm.err"
		: > "$tmp/nm"
	fi
	# "ADDR TYPE NAME[@[@]NODE]"; a version node itself is an A symbol.
	awk -v nodes="$tmp/nodes" '
		BEGIN { while ((getline l < nodes) > 0) node[l] = 1 }
		{
			sym = $NF; ver = ""
			if ((i = index(sym, "@")) > 0) {
				ver = substr(sym, i); sub(/^@+/, "", ver)
				sym = substr(sym, 1, i - 1)
			}
			if ($(NF - 1) == "A" && ver == "" && (sym in node))
				next
			print sym, ver
		}' "$tmp/nm" > "$tmp/exports"
	cut -d' ' -f1 "$tmp/exports" | sort -u > "$tmp/names"

	# 1. Nothing outside the global list.
	comm -23 "$tmp/names" "$tmp/globals" > "$tmp/extra"
	if [ -s "$tmp/extra" ] || [ ! -s "$tmp/names" ]; then
		[ -s "$tmp/names" ] || echo "# $name exports nothing"
		[ -s "$tmp/extra" ] &&
			echo "# $name exports $(wc -l < "$tmp/extra") symbol(s) not in $(basename "$map")'s global list:"
		sed 's/^/#   /' "$tmp/extra"
		result 1 "$name: exports only its version script's globals"
	else
		echo "# $name: $(wc -l < "$tmp/names") exported"
		result 0 "$name: exports only its version script's globals"
	fi

	# 2. Every export carries a node of the script.
	awk -v nodes="$tmp/nodes" '
		BEGIN { while ((getline l < nodes) > 0) node[l] = 1 }
		!($2 in node) { print $1 (NF > 1 ? "@" $2 : " (no version)") }
		' "$tmp/exports" > "$tmp/unversioned"
	if [ -s "$tmp/unversioned" ] || [ ! -s "$tmp/nodes" ]; then
		[ -s "$tmp/nodes" ] || echo "# $(basename "$map") names no version node"
		[ -s "$tmp/unversioned" ] &&
			echo "# $name exports without a node of $(basename "$map") ($(tr '\n' ' ' < "$tmp/nodes")):"
		sed 's/^/#   /' "$tmp/unversioned"
		result 1 "$name: every export has a version node of its script"
	else
		result 0 "$name: every export has a version node of its script"
	fi

	# 3. Every global of the script is defined.
	comm -13 "$tmp/names" "$tmp/globals" > "$tmp/missing"
	if [ -s "$tmp/missing" ]; then
		echo "# $(basename "$map") lists $(wc -l < "$tmp/missing") name(s) that $name does not define:"
		sed 's/^/#   /' "$tmp/missing"
		result 1 "$name: every global of its script is exported"
	else
		result 0 "$name: every global of its script is exported"
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]

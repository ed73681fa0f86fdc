#!/usr/bin/env python3
"""Count subtests across meson test logs (TAP and plain tests) and print
one closing line: 'N passed, N failed, N skipped'. Exit 1 on any failure.
A test program that crashed or printed no TAP counts as one failure."""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f"tap_summary: {e}")
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get('stdout') or ''
        oks = re.findall(r'^(not ok|ok)\b.*$', out, re.M)
        if not oks or 'TAP version' not in out:
            # Not TAP (fuzzers): the test's own verdict.
            if t['result'] == 'OK':
                passed += 1
            elif t['result'] == 'SKIP':
                skipped += 1
            else:
                failed += 1
            continue
        for m in re.finditer(r'^(not ok|ok)\b(.*)$', out, re.M):
            if m.group(1) == 'not ok':
                failed += 1
            elif re.search(r'#\s*SKIP', m.group(2), re.I):
                skipped += 1
            else:
                passed += 1
        if t['result'] not in ('OK', 'SKIP') and 'not ok' not in out:
            failed += 1   # crashed or timed out after its last line
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)

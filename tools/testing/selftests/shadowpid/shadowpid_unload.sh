#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload after use, last: every universe is closed, so every shadowpid
# cache must be empty (the module reports what is left; the slab allocator
# complains about a non-empty cache it destroys). Then, on a kernel with
# kmemleak, an explicit scan: a report whose trace names shadowpid, or
# passes through the module's text (after rmmod its frames have no names,
# only addresses: what the module left allocated at its exit), is a leak
# of ours.
. "$(dirname "$0")/lib.sh"
require_root
grep -q '^shadowpid ' /proc/modules || missing "the module loaded"
mount_debugfs
leaks=/sys/kernel/debug/kmemleak
ktap_plan $([ -e $leaks ] && echo 2 || echo 1)
before=$(dmesg | wc -l)
# Where the module's text was, for the frames kmemleak cannot name after.
read -r size base < <(awk '$1 == "shadowpid" { print $2, $6 }' /proc/modules)
rmmod shadowpid
rc=$?
if dmesg | tail -n +"$((before + 1))" | grep -E 'shadowpid.*objects left|kmem_cache_destroy shadowpid'; then
	rc=1
fi
ktap_result $rc unload_clean
if [ -e $leaks ]; then
	# Two scans back to back, with no wait between: the first settles
	# objects whose references were in flight. kmemleak reports only objects
	# older than its minimum age (5 s, mm/kmemleak.c), which leaks of the
	# earlier suites are.
	echo scan >$leaks
	echo scan >$leaks
	ours=$(python3 - "$base" "$size" $leaks <<'PY'
import re, sys
base, size = int(sys.argv[1], 16), int(sys.argv[2])
hits = 0
for report in open(sys.argv[3]).read().split("unreferenced object")[1:]:
    frames = [int(a, 16) for a in re.findall(r"\[<([0-9a-f]+)>\]", report)]
    if "shadowpid" in report or any(base <= a < base + size for a in frames):
        hits += 1
print(hits)
PY
)
	echo "# kmemleak: $(grep -c '^unreferenced object' $leaks) suspected objects, $ours with shadowpid (or its text, $base + $size) in their trace"
	[ "$ours" -eq 0 ] || sed 's/^/# /' $leaks
	ktap_result "$ours" kmemleak
fi
ktap_finish

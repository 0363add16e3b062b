#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload after use, last: every universe is closed, so every shadowpid
# cache must be empty (the module reports what is left; the slab allocator
# complains about a non-empty cache it destroys). Then, on a kernel with
# kmemleak, an explicit scan: a report whose trace names shadowpid is a
# leak of ours.
. "$(dirname "$0")/lib.sh"
require_root
grep -q '^shadowpid ' /proc/modules || missing "the module loaded"
mount_debugfs
leaks=/sys/kernel/debug/kmemleak
ktap_plan $([ -e $leaks ] && echo 2 || echo 1)
before=$(dmesg | wc -l)
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
	ours=$(awk '/^unreferenced object/ { n++ } /shadowpid/ { hit[n] = 1 } END { c = 0; for (i in hit) c++; print c + 0 }' $leaks)
	echo "# kmemleak: $(grep -c '^unreferenced object' $leaks) suspected objects, $ours with shadowpid in their trace"
	[ "$ours" -eq 0 ] || sed 's/^/# /' $leaks
	ktap_result "$ours" kmemleak
fi
ktap_finish

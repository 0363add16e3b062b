#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection, on a kernel that has it (the debug one): failslab on the
# module's caches, then fail_page_alloc on its pidmap pages, 10% each,
# $SHADOWPID_FAULT_ALLOCS allocations (40,000: in CI, 100,000 took 184 s of
# the debug run for 10,159 slab and 2,027 page failures, every one a clean
# ENOMEM). KTAP, one test per target.
. "$(dirname "$0")/lib.sh"
require_ready
mount_debugfs
if [ ! -e /sys/kernel/debug/failslab ] || [ ! -e /sys/kernel/debug/fail_page_alloc ]; then
	echo "# SKIP: this kernel has no failslab/fail_page_alloc (make check-debug runs them)"
	exit $KSFT_SKIP
fi
ktap_plan 2
for target in slab page; do
	"$cli" faults --target $target --probability 10 \
		--allocs "${SHADOWPID_FAULT_ALLOCS:-40000}" 2>&1 | sed 's/^/# /'
	ktap_result "${PIPESTATUS[0]}" "$target"
done
ktap_finish

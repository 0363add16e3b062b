#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the shadowpid kselftests: where things are, KTAP through the
# kernel's own kselftest/ktap_helpers.sh (installed beside the collection by
# 'make selftests', as in a kernel tree), and the prerequisites.
#
# SHADOWPID_TOP is the checkout (the tests may run from an installed copy);
# SHADOWPID_KO the module to (re)load; SHADOWPID_CLI the CLI. Inside the
# test VM (SHADOWPID_IN_VM=1, set by scripts/vm) every prerequisite exists
# by construction: a missing one is a failure there, a skip elsewhere.

here=$(cd "$(dirname "$0")" && pwd)
top=${SHADOWPID_TOP:-$(cd "$here/../../../.." && pwd)}
cli=${SHADOWPID_CLI:-$top/samples/shadowpid/target/release/shadowpid}
ko=${SHADOWPID_KO:-$top/shadowpid.ko}

helpers=$here/../kselftest/ktap_helpers.sh
[ -f "$helpers" ] || helpers=${SHADOWPID_KSRC:-}/tools/testing/selftests/kselftest/ktap_helpers.sh
if [ ! -f "$helpers" ]; then
	echo "Bail out! no kselftest/ktap_helpers.sh beside the collection (make selftests installs it) nor in SHADOWPID_KSRC"
	exit 1
fi
. "$helpers"

# ktap_plan N: the header and the plan.
ktap_plan() {
	ktap_print_header
	ktap_set_plan "$1"
}

# ktap_result STATUS NAME [SECONDS]: STATUS 0 passes, $KSFT_SKIP skips,
# anything else fails; the case's wall time first (a diagnostic): SECONDS
# for a case that ran beside others, else the time since the last result.
ktap_case_start=$SECONDS
ktap_result() {
	ktap_print_msg "$2: ${3:-$((SECONDS - ktap_case_start))} s"
	ktap_case_start=$SECONDS
	case $1 in
	0) ktap_test_pass "$2" ;;
	"$KSFT_SKIP") ktap_test_skip "$2" ;;
	*) ktap_test_fail "$2" ;;
	esac
}

# ktap_finish: the test's wall time (a diagnostic), then the totals, and
# the exit status from the helpers (a failure unless every planned case
# passed or skipped).
ktap_finish() {
	ktap_print_msg "elapsed: $SECONDS s"
	ktap_finished
}

# missing WHAT: a prerequisite is missing. A failure inside the test VM,
# a skip of the whole test elsewhere.
missing() {
	if [ "${SHADOWPID_IN_VM:-0}" = 1 ]; then
		ktap_exit_fail_msg "inside the test VM, $*"
	fi
	echo "# SKIP: $*"
	exit "$KSFT_SKIP"
}

# require_root: the test runs as root.
require_root() {
	[ "$(id -u)" -eq 0 ] || missing "needs root"
}

# require_ready: root, the device and the CLI.
require_ready() {
	require_root
	[ -c /dev/shadowpid ] || missing "needs /dev/shadowpid (the module loaded)"
	[ -x "$cli" ] || missing "needs the shadowpid CLI ($cli)"
}

# debugfs: mounted if it is not.
# A KASAN kernel (make check-debug): 1, else 0. Tests size what they run
# by it: there they run what its checks are for, not figures.
kasan=0
grep -qw kasan_report /proc/kallsyms && kasan=1

mount_debugfs() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the shadowpid kselftests: where things are, and KTAP output.
#
# SHADOWPID_TOP is the checkout (the tests may run from an installed copy);
# SHADOWPID_KO the module to (re)load; SHADOWPID_CLI the CLI.

ksft_pass=0 ksft_fail=1 ksft_skip=4
here=$(cd "$(dirname "$0")" && pwd)
top=${SHADOWPID_TOP:-$(cd "$here/../../../.." && pwd)}
cli=${SHADOWPID_CLI:-$top/samples/shadowpid/target/release/shadowpid}
ko=${SHADOWPID_KO:-$top/shadowpid.ko}

ktap_n=0 ktap_passed=0 ktap_failed=0 ktap_skipped=0

# ktap_plan N: the header and the number of tests.
ktap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

# ktap_result STATUS NAME: STATUS is 0 (pass), 4 (skip) or anything else.
ktap_result() {
	ktap_n=$((ktap_n + 1))
	case $1 in
	0) echo "ok $ktap_n $2"; ktap_passed=$((ktap_passed + 1)) ;;
	4) echo "ok $ktap_n $2 # SKIP"; ktap_skipped=$((ktap_skipped + 1)) ;;
	*) echo "not ok $ktap_n $2"; ktap_failed=$((ktap_failed + 1)) ;;
	esac
}

# ktap_finish: the totals line, the test's wall time (a diagnostic), and the
# exit status kselftest expects.
ktap_finish() {
	echo "# elapsed: $SECONDS s"
	echo "# Totals: pass:$ktap_passed fail:$ktap_failed xfail:0 xpass:0 skip:$ktap_skipped error:0"
	[ "$ktap_failed" -eq 0 ] || exit $ksft_fail
	exit $ksft_pass
}

# skip_unless_ready: SKIP (exit 4) without root, the device or the CLI.
skip_unless_ready() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "# SKIP: needs root"; exit $ksft_skip
	fi
	if [ ! -c /dev/shadowpid ] || [ ! -x "$cli" ]; then
		echo "# SKIP: needs /dev/shadowpid and the shadowpid CLI ($cli)"; exit $ksft_skip
	fi
}

# debugfs: mounted if it is not.
mount_debugfs() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
}

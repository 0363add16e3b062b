#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's KUnit suites: they run when the module loads. Reload it so
# that they run now, then read each suite's results from debugfs
# (/sys/kernel/debug/kunit/<suite>/results). KTAP out, one test per case.
. "$(dirname "$0")/ktap_lib.sh"

if [ "$(id -u)" -ne 0 ] || [ ! -f "$ko" ]; then
	echo "# SKIP: needs root and the module ($ko)"; exit $ksft_skip
fi
grep -q '^shadowpid ' /proc/modules && rmmod shadowpid
insmod "$ko" || { echo "# insmod $ko failed"; exit $ksft_fail; }
mount_debugfs
suites=$(ls -d /sys/kernel/debug/kunit/shadowpid_* 2>/dev/null)
if [ -z "$suites" ]; then
	echo "# no shadowpid suite in /sys/kernel/debug/kunit (CONFIG_KUNIT=y and CONFIG_KUNIT_DEBUGFS=y?)"
	exit $ksft_fail
fi
# Every case line ("ok N name" / "not ok N name", indented under its suite).
cases=$(for s in $suites; do
	sed -n "s/^[[:space:]]*\(ok\|not ok\) [0-9]* \([a-z_0-9]*\).*/\1 $(basename "$s").\2/p" "$s/results" |
		grep -v " $(basename "$s").$(basename "$s")\$"
done)
ktap_plan "$(echo "$cases" | wc -l)"
for s in $suites; do sed 's/^/# /' "$s/results"; done
while read -r status name; do
	case $status in
	ok) ktap_result 0 "$name" ;;
	*) ktap_result 1 "$name" ;;
	esac
done <<<"$(echo "$cases" | sed 's/^not ok/not_ok/')"
ktap_finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's KUnit suites, run once, here. The test VM boots with
# kunit.autorun=0 (scripts/vm), so loading the module only registers them;
# each suite is run through debugfs (/sys/kernel/debug/kunit/SUITE/run),
# and its results are read by the kernel's own KTAP parser, kunit.py parse
# (installed beside the collection by 'make selftests'). KTAP out: one case
# per suite (its own ok/not ok line, which kunit.py's status carries) and one
# per case, named SUITE and SUITE.CASE: the verdict expects exactly the
# suites and cases of the module's #[kunit_tests] source.
. "$(dirname "$0")/lib.sh"
require_root
grep -q '^shadowpid ' /proc/modules || insmod "$ko" || missing "the module ($ko) loaded"
mount_debugfs
# Where make selftests installs it: kunit.py finds the kernel's root from
# its own path, which must end in tools/testing/kunit.
kunit_py=$here/../tools/testing/kunit/kunit.py
[ -f "$kunit_py" ] || missing "$kunit_py (make selftests installs it)"
suites=(/sys/kernel/debug/kunit/shadowpid_*)
[ -e "${suites[0]}/run" ] || missing "the module's suites in /sys/kernel/debug/kunit (CONFIG_KUNIT=y, CONFIG_KUNIT_DEBUGFS=y)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for s in "${suites[@]}"; do
	suite=$(basename "$s")
	echo 1 >"$s/run"
	cat "$s/results" >"$tmp/$suite.ktap"
	sed 's/^/# /' "$tmp/$suite.ktap"
	python3 "$kunit_py" parse --json="$tmp/$suite.json" <"$tmp/$suite.ktap" >"$tmp/$suite.out" 2>&1
	echo "$? $suite" >>"$tmp/suites"
	sed "s/^/# kunit.py: /" "$tmp/$suite.out"
done
# Each case as kunit.py parsed it: STATUS SUITE.CASE.
for s in "${suites[@]}"; do
	suite=$(basename "$s")
	python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["sub_groups"][0]["test_cases"]:
    print(c["status"], sys.argv[2] + "." + c["name"])' "$tmp/$suite.json" "$suite" >>"$tmp/cases" ||
		echo "ERROR $suite.(kunit.py's results)" >>"$tmp/cases"
done

ktap_plan $(($(wc -l <"$tmp/suites") + $(wc -l <"$tmp/cases")))
while read -r rc suite; do
	ktap_result "$rc" "$suite"
done <"$tmp/suites"
while read -r status name; do
	case $status in
	PASS) ktap_test_pass "$name" ;;
	SKIP) ktap_test_skip "$name" ;;
	*) ktap_test_fail "$name" ;;
	esac
done <"$tmp/cases"
ktap_finish

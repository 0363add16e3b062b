#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's KUnit suites, run once, here. The test VM boots with
# kunit.autorun=0 (scripts/vm), so loading the module only registers them;
# each suite is run through debugfs (/sys/kernel/debug/kunit/SUITE/run),
# and its results are read by the kernel's own KTAP parser: kunit.py's
# parse_tests, what 'kunit.py parse' runs (installed beside the collection
# by 'make selftests'). KTAP out: one case per suite (its own ok/not ok
# line, which kunit.py's status carries) and one per case, named SUITE and
# SUITE.CASE: the verdict expects exactly the suites and cases of the
# module's #[kunit_tests] source.
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

names=()
for s in "${suites[@]}"; do
	suite=$(basename "$s")
	names+=("$suite")
	echo 1 >"$s/run"
	cat "$s/results" >"$tmp/$suite.ktap"
	sed 's/^/# /' "$tmp/$suite.ktap"
done
# kunit.py parse, each suite on its own, but in one Python process (a
# start of Python costs seconds under TCG): kunit.py's own parse_tests, as
# its parse command calls it. Out: "STATUS SUITE" for each suite (0 when
# kunit.py parse would exit 0) in $tmp/suites, "STATUS SUITE.CASE" for
# each case in $tmp/cases; kunit.py's report on stdout.
python3 - "$(dirname "$kunit_py")" "$tmp" "${names[@]}" <<'EOF_PY' 2>&1 | sed 's/^/# kunit.py: /'
import json, sys
sys.path.insert(0, sys.argv[1])
import kunit, kunit_json
tmp = sys.argv[2]
with open(f"{tmp}/suites", "w") as suites, open(f"{tmp}/cases", "w") as cases:
    for suite in sys.argv[3:]:
        js = f"{tmp}/{suite}.json"
        try:
            with open(f"{tmp}/{suite}.ktap", errors="backslashreplace") as f:
                lines = f.read().splitlines()
            request = kunit.KunitParseRequest(raw_output=None, json=js, junit=None,
                                              summary=False, failed=False)
            result, _ = kunit.parse_tests(request, kunit_json.Metadata(), lines)
            rc = 0 if result.status == kunit.KunitStatus.SUCCESS else 1
        except Exception as e:
            print(f"{suite}: kunit.py failed: {e!r}")
            rc = 1
        print(rc, suite, file=suites)
        try:
            for c in json.load(open(js))["sub_groups"][0]["test_cases"]:
                print(c["status"], f"{suite}.{c['name']}", file=cases)
        except Exception:
            print(f"ERROR {suite}.(kunit.py's results)", file=cases)
EOF_PY

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

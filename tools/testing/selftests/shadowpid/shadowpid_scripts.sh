#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The script grammar end to end: each scripts/NAME.in through 'shadowpid
# script' against NAME.out (the reference model answers the same, on the
# host). KTAP out, one test per script.
. "$(dirname "$0")/lib.sh"
require_ready
inputs=("$here"/scripts/*.in)
ktap_plan "${#inputs[@]}"
for in in "${inputs[@]}"; do
	diff -u "${in%.in}.out" <("$cli" script <"$in") | sed 's/^/# /'
	ktap_result "${PIPESTATUS[0]}" "$(basename "$in" .in)"
done
ktap_finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shadow versus native: real processes, threads and PID namespaces, replayed
# on /dev/shadowpid and compared number for number, by 'shadowpid compare'.
# KTAP out, one test per scenario: the built-in suite and
# $SHADOWPID_COMPARE_RANDOM (default 20) random scenarios of
# $SHADOWPID_COMPARE_STEPS (default 2000) events.
. "$(dirname "$0")/lib.sh"
require_ready
exec "$cli" compare --ktap --random "${SHADOWPID_COMPARE_RANDOM:-20}" \
	--steps "${SHADOWPID_COMPARE_STEPS:-2000}"

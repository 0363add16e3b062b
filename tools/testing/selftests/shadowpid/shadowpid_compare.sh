#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shadow versus native: real processes, threads and PID namespaces, replayed
# on /dev/shadowpid and compared number for number, by 'shadowpid compare'.
# KTAP out, one test per scenario: the built-in suite and
# $SHADOWPID_COMPARE_RANDOM (default 20) random scenarios of
# $SHADOWPID_COMPARE_STEPS (default 2000) events, one process per CPU.
#
# The processes share only the initial namespace, whose numbers are not
# compared; but compare's probe asks there whether a gone task's number is
# free (compare/probe.rs), and another process's fork could take that number
# in between if the initial namespace's cycle came round to it. With
# pid_max at PID_MAX_LIMIT (what systemd sets) the cycle is 4,194,304
# numbers long, not 32,768: the run sets it, and puts it back.
. "$(dirname "$0")/lib.sh"
require_ready
read -r pid_max </proc/sys/kernel/pid_max
trap 'echo "$pid_max" >/proc/sys/kernel/pid_max' EXIT
echo 4194304 >/proc/sys/kernel/pid_max || ktap_exit_fail_msg "cannot set pid_max"
"$cli" compare --ktap --jobs "$(nproc)" --random "${SHADOWPID_COMPARE_RANDOM:-20}" \
	--steps "${SHADOWPID_COMPARE_STEPS:-2000}"

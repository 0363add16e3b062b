#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shadow versus native: real processes, threads and PID namespaces, replayed
# on /dev/shadowpid and compared number for number, by 'shadowpid compare'.
# KTAP out, one test per scenario: the built-in suite and
# $SHADOWPID_COMPARE_RANDOM (default 20) random scenarios of
# $SHADOWPID_COMPARE_STEPS (default 2000) events.

ksft_skip=4
here=$(cd "$(dirname "$0")" && pwd)
cli=${SHADOWPID_CLI:-$here/../../../../samples/shadowpid/target/release/shadowpid}

if [ "$(id -u)" -ne 0 ]; then
	echo "# SKIP: needs root"; exit $ksft_skip
fi
if [ ! -c /dev/shadowpid ] || [ ! -x "$cli" ]; then
	echo "# SKIP: needs /dev/shadowpid and the shadowpid CLI ($cli)"; exit $ksft_skip
fi
exec "$cli" compare --ktap --random "${SHADOWPID_COMPARE_RANDOM:-20}" \
	--steps "${SHADOWPID_COMPARE_STEPS:-2000}"

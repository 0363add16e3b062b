#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark, a smoke pass: every figure runs, its numbers are positive
# and its ratios computed (make bench runs the real thing).
. "$(dirname "$0")/lib.sh"
require_ready
# Two repetitions under KASAN (259 s with three in the debug guest), and
# there not figure 5, whose populated states on two CPUs the regular run
# covers (the KASAN smoke took 380 s with it in session 12's .ci/run): an
# interval needs two repetitions, and every other figure runs.
if [ "$kasan" = 1 ]; then
	exec "$cli" bench --smoke --reps 2 --only 1,2,3,4,6,7,8,9,10,11
fi
exec "$cli" bench --smoke --reps 3

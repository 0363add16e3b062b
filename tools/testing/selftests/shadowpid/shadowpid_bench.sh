#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark, a smoke pass: every figure runs, its numbers are positive
# and its ratios computed (make bench runs the real thing).
. "$(dirname "$0")/lib.sh"
require_ready
# Two repetitions under KASAN (259 s with three in the debug guest):
# the figures all run, and an interval needs two.
exec "$cli" bench --smoke --reps $((3 - kasan))

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Concurrency: workers on shared and own universes while others open and
# close universes; then every namespace's invariants, and every object back
# once the files are closed. $SHADOWPID_STRESS_OPS operations per worker
# (50,000; make check-debug runs 120,000).
. "$(dirname "$0")/lib.sh"
require_ready
exec "$cli" stress --threads 2 --ops "${SHADOWPID_STRESS_OPS:-50000}"

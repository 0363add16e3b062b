#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile input: random and malformed calls from two threads for
# $SHADOWPID_FUZZ_SECONDS (20; make check-debug runs one minute).
. "$(dirname "$0")/lib.sh"
require_ready
exec "$cli" fuzz --threads 2 --seconds "${SHADOWPID_FUZZ_SECONDS:-20}"

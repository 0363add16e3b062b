#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Model-based test: random operations through the module and the reference
# model of samples/shadowpid, compared line by line; one test per seed
# ($SHADOWPID_MODEL_SEEDS, default "1 2 3 4"), 100,000 operations each.
. "$(dirname "$0")/lib.sh"
require_ready
seeds=(${SHADOWPID_MODEL_SEEDS:-1 2 3 4})
ktap_plan "${#seeds[@]}"
for seed in "${seeds[@]}"; do
	"$cli" model-test --seed "$seed" --ops 100000 2>&1 | sed 's/^/# /'
	ktap_result "${PIPESTATUS[0]}" "seed_$seed"
done
ktap_finish

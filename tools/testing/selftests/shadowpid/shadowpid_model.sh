#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Model-based test: random operations through the module and the reference
# model of samples/shadowpid, compared line by line; one test per seed
# ($SHADOWPID_MODEL_SEEDS, default "1 2 3 4"), 100,000 operations each
# (25,000 on a KASAN kernel).
# Each seed has a universe of its own and nothing else is shared, so the
# seeds run one per CPU at a time; their results are printed in seed order.
. "$(dirname "$0")/lib.sh"
require_ready
seeds=(${SHADOWPID_MODEL_SEEDS:-1 2 3 4})
jobs=$(nproc)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ktap_plan "${#seeds[@]}"
# A quarter of the operations on a KASAN kernel (each seed took 75 s
# there at 100,000, session 12): it checks the same paths' memory safety,
# the regular kernel the long runs.
ops=$((100000 / (1 + 3 * kasan)))
run_seed() {
	local start=$SECONDS
	"$cli" model-test --seed "$1" --ops "$ops" >"$dir/$1.out" 2>&1
	echo $? $((SECONDS - start)) >"$dir/$1.rc"
}
for seed in "${seeds[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	run_seed "$seed" &
done
wait
for seed in "${seeds[@]}"; do
	sed 's/^/# /' "$dir/$seed.out"
	read -r rc took <"$dir/$seed.rc" || rc=1
	ktap_result "$rc" "seed_$seed" "$took"
done
ktap_finish

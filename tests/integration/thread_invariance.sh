#!/usr/bin/env bash
# The same training with 1 and 2 threads gives bitwise-identical parameters and AdamW moments
# (and losses to the last digit).
source "$(dirname "$0")/lib.bash"

for t in 1 2 3; do
  OMP_NUM_THREADS=$t cairn train "$TINY" "${TINY_SETS[@]}" --set run.dir=run$t --set train.steps=12 \
    --set model.dropout=0.1 --dump-final final$t.bin >/dev/null
done
same_file final1.bin final2.bin
same_file final1.bin final3.bin
same_value "logged losses, 1 vs 2 threads" "$(losses run1)" "$(losses run2)"
same_value "logged losses, 1 vs 3 threads" "$(losses run1)" "$(losses run3)"
pass "1, 2 and 3 threads: identical final state"

#!/usr/bin/env bash
# Data parallel training on 1, 2 and 4 ranks gives bitwise-identical final parameters and
# AdamW moments and the same logged losses, for grad_accum 4 and 12, with dropout on and
# off and with 1 or 2 threads per rank.
source "$(dirname "$0")/lib.bash"

check() {  # name, extra --set options...
  local name=$1; shift
  for w in 1 2 4; do
    mpi $w train "$TINY" "${TINY_SETS[@]}" --set run.dir=$name-w$w --set train.steps=8 "$@" \
      --dump-final $name-w$w.bin >/dev/null
  done
  same_file $name-w1.bin $name-w2.bin
  same_file $name-w1.bin $name-w4.bin
  same_value "$name: logged losses, W=1 vs 2" "$(losses $name-w1)" "$(losses $name-w2)"
  same_value "$name: logged losses, W=1 vs 4" "$(losses $name-w1)" "$(losses $name-w4)"
  pass "$name: W=1,2,4 identical"
}

check g4 --set train.grad_accum=4 --set run.threads=1
check g12 --set train.grad_accum=12 --set train.micro_batch=1 --set run.threads=1
check dropout --set train.grad_accum=4 --set model.dropout=0.1 --set run.threads=2

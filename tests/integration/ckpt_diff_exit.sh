#!/usr/bin/env bash
# `cairn ckpt diff` tells "they differ" from "could not compare" (issue 13): 0 bitwise equal,
# 3 the checkpoints differ, 1 an error (a checkpoint that cannot be read), 2 usage.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=3 --set run.threads=1)
cairn train "$TINY" "${SETS[@]}" --set run.dir=a >/dev/null
cairn train "$TINY" "${SETS[@]}" --set run.dir=b >/dev/null
cairn train "$TINY" "${SETS[@]}" --set run.dir=c --set train.seed=7 >/dev/null

cairn ckpt diff a b >/dev/null || fail "equal runs: ckpt diff exited $?"
status=0; out=$(cairn ckpt diff a c) || status=$?
[ $status -eq 3 ] || fail "differing runs: ckpt diff exited $status, expected 3: $out"
[[ "$out" == *"first difference: params/"* ]] || fail "differing runs: no first difference named: $out"
expect_fail 1 "nope: neither a checkpoint directory" cairn ckpt diff a nope
expect_fail 2 "cairn ckpt diff: expected A B" cairn ckpt diff a
cairn ckpt --help | grep -q "exit codes: 0 ok, 1 error, 2 usage, 3 diff: the checkpoints differ" \
  || fail "cairn ckpt --help does not list the exit codes"
pass "ckpt diff: 0 equal, 3 differ, 1 error, 2 usage"

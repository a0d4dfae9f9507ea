#!/usr/bin/env bash
# run.profile = true times every kernel call without changing a bit of the training, prints
# where a step's time goes (ms per step by op, the trainer's phases, the rest) and records it
# in metrics.jsonl.
source "$(dirname "$0")/lib.bash"

cairn train "$TINY" "${TINY_SETS[@]}" --set run.dir=plain --set train.steps=6 --set model.dropout=0.1 \
  --dump-final plain.bin >/dev/null
cairn train "$TINY" "${TINY_SETS[@]}" --set run.dir=prof --set train.steps=6 --set model.dropout=0.1 \
  --set run.profile=true --dump-final prof.bin >log.txt
same_file plain.bin prof.bin
grep -q '^profile over 5 steps' log.txt || fail "no 'profile over 5 steps' table in the log: $(cat log.txt)"
for op in matmul_forward matmul_backward attention_forward layernorm_backward crossentropy_forward_backward \
  '\[grad norm \+ AdamW\]' '\[other\]'; do
  grep -Eq "^  $op +[0-9.]+ +[0-9.]+ +[0-9.]+%$" log.txt || fail "profile table lacks a row for $op"
done
grep -q '"event":"profile"' prof/metrics.jsonl || fail "no profile event in metrics.jsonl"
grep -q '"event":"profile"' plain/metrics.jsonl && fail "profile event without run.profile"
pass "run.profile: same bits as without it, per-op table in the log and metrics.jsonl"

#!/usr/bin/env bash
# checkpoint.incremental with train.freeze (fine-tuning with frozen layers), real mpirun:
#  - frozen tensors never change (ckpt diff of the first and last checkpoints names a
#    trainable tensor first) and the run equals a non-incremental one bit for bit;
#  - later saves write only the changed pieces: their shard files are much smaller than the
#    first save's (bytes on disk counted) and the log says how many pieces were unchanged;
#  - retention (keep_last = 2) removes step 10 but keeps step 5, which later checkpoints
#    refer to; everything kept verifies, exports the same weights;
#  - a run killed mid-way resumes on another world size from incremental checkpoints,
#    bitwise exact.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=20 --set checkpoint.every_steps=5 --set checkpoint.keep_last=2
      --set run.threads=1 --set 'train.freeze=["wte.", "wpe.", "h.0."]')

mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=plain --set checkpoint.incremental=false >/dev/null
mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=inc --set checkpoint.incremental=true > inc.log
grep -q "train.freeze: 14 tensors" inc.log || fail "freeze not reported: $(head -3 inc.log)"
want=$(ckpt_hash plain)
same_value "incremental run vs plain" "$(ckpt_hash inc)" "$want"
same_value "step 15, incremental vs plain" "$(ckpt_hash inc/checkpoints/step_00000015)" "$(ckpt_hash plain/checkpoints/step_00000015)"
cairn ckpt diff inc/checkpoints/step_00000005 inc/checkpoints/step_00000020 > diff.txt || true
grep -q "first difference: params/h.1." diff.txt || fail "a frozen tensor changed: $(cat diff.txt)"
pass "frozen tensors unchanged; incremental run bitwise equal to the plain one"

ls inc/checkpoints | tr '\n' ' ' | grep -q "^latest step_00000005 step_00000015 step_00000020 $" ||
  fail "retention kept $(ls inc/checkpoints | tr '\n' ' '), expected step 5 (referenced), 15, 20"
first=$(cat inc/checkpoints/step_00000005/*.safetensors | wc -c)
later=$(cat inc/checkpoints/step_00000015/*.safetensors | wc -c)
full=$(cat plain/checkpoints/step_00000015/*.safetensors | wc -c)
[ "$first" -eq "$full" ] || fail "the first incremental save ($first bytes) differs in size from a full one ($full)"
[ $((later * 2)) -lt "$first" ] || fail "step 15 wrote $later bytes, not much less than the first save's $first"
grep -q "checkpoint step 15 (async): .* [1-9][0-9]* of [0-9]* pieces unchanged, not rewritten" inc.log || fail "no unchanged-piece count logged"
inspect=$(cairn ckpt inspect inc/checkpoints/step_00000015)  # not `| grep -q`: SIGPIPE under pipefail
grep -q "^references    [0-9]* unchanged pieces stored in step_00000005" <<<"$inspect" ||
  fail "ckpt inspect does not show the references"
for d in 5 15 20; do cairn ckpt verify inc/checkpoints/$(printf 'step_%08d' $d) >/dev/null || fail "step $d does not verify"; done
cairn ckpt export inc inc.safetensors >/dev/null && cairn ckpt export plain plain.safetensors >/dev/null
same_file inc.safetensors plain.safetensors
pass "later saves wrote $later bytes instead of $first; step 10 removed, step 5 kept (referenced); verify, export"

status=0
CAIRN_KILL_AT=train.step@17 mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=killed --set checkpoint.incremental=true \
  >/dev/null 2>&1 || status=$?
[ $status -ne 0 ] || fail "the run was not killed"
mpi 1 train "$TINY" "${SETS[@]}" --set run.dir=killed --set checkpoint.incremental=true > resume.log
grep -q "resumed from .*step_000000[01][05] at step 1[05] (saved on 2 rank(s), now 1)" resume.log ||
  fail "did not resume from step 10 or 15: $(grep resumed resume.log)"
same_value "resumed incremental run vs uninterrupted" "$(ckpt_hash killed)" "$want"
pass "killed, resumed on 1 rank from incremental checkpoints, bitwise exact"

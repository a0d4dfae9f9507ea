#!/usr/bin/env bash
# A real 16-rank job (mpirun -np 16, tiny config with grad_accum 32, one sequence per
# micro-batch) killed, then resumed on 32 ranks and, from a copy of the same run directory,
# on 4: both end bitwise equal to an uninterrupted run (whose world size does not matter:
# it runs on 1 rank). Three kills: SIGKILL of the whole job from outside at a random step; one
# rank killing itself with its shard of a save written and the commit vote not yet held; and
# every rank killed between two steps. 32 rank processes of the tiny model fit easily in this
# machine's memory (about 40 MB resident each).
source "$(dirname "$0")/lib.bash"
# Synchronous saves: a kill at step 5 or later always finds step 3 committed (an async save's
# commit can lag several steps behind on a loaded machine, and this test is about resharding).
SETS=("${TINY_SETS[@]}" --set data.val= --set train.grad_accum=32 --set train.micro_batch=1 --set train.steps=12
      --set checkpoint.every_steps=3 --set checkpoint.async=false --set run.threads=1)
seed=${CAIRN_TEST_SEED:-$RANDOM}
RANDOM=$seed
echo "random kill step from seed $seed (CAIRN_TEST_SEED=$seed repeats it)"

cairn train "$TINY" "${SETS[@]}" --set run.dir=ref >/dev/null
want=$(ckpt_hash ref)

resume_on_32_and_4() {  # name: the killed run directory
  local name=$1 from w
  from=$(newest_committed $name)
  cp -a $name ${name}_32
  mv $name ${name}_4
  for w in 32 4; do
    mpi $w train "$TINY" "${SETS[@]}" --set run.dir=${name}_$w >/dev/null
    same_value "$name: resumed step on $w ranks" "$(resumed_step ${name}_$w)" "${from:-}"
    same_value "$name: final hash, killed on 16 ranks, resumed on $w" "$(ckpt_hash ${name}_$w)" "$want"
  done
  pass "$name: resumed from step $from on 32 and on 4 ranks, both bitwise equal to the uninterrupted run"
}

# 1. The whole job, from outside, once a random step has been logged.
step=$((RANDOM % 4 + 5))  # 5..8: step 3 committed (sync saves), 4+ steps left to kill in
kill_job_at_step 16 outside $step train "$TINY" "${SETS[@]}" --set run.dir=outside
[ ! -f outside/checkpoints/step_00000012/manifest.json ] || fail "outside: the run finished before the kill near step $step"
[ -n "$(newest_committed outside)" ] || fail "outside: no checkpoint committed before the kill near step $step"
echo "outside: SIGKILL of the 16-rank job near step $step"
resume_on_32_and_4 outside

# 2. Rank 11 dies with its shard of step 9 written, before the commit vote.
status=0
CAIRN_KILL_AT=ckpt.shard_written@9:rank=11 mpi 16 train "$TINY" "${SETS[@]}" --set run.dir=midsave \
  >/dev/null 2>midsave.err || status=$?
[ $status -ne 0 ] || fail "midsave: the run was not killed"
grep -q "CAIRN_KILL_AT: killing this process at" midsave.err || fail "midsave: kill point not reached"
same_value "midsave: newest committed checkpoint" "$(newest_committed midsave)" 6
resume_on_32_and_4 midsave

# 3. Every rank killed between steps 7 and 8.
status=0
CAIRN_KILL_AT=train.step@7 mpi 16 train "$TINY" "${SETS[@]}" --set run.dir=between >/dev/null 2>&1 || status=$?
[ $status -ne 0 ] || fail "between: the run was not killed"
resume_on_32_and_4 between

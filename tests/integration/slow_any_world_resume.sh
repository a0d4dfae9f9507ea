#!/usr/bin/env bash
# Killed and resumed on world sizes that are not powers of two: SIGKILL on 8 ranks, resume on
# 6, SIGKILL, resume on 5, SIGKILL, resume on 3, SIGKILL from outside at a moment the test
# does not choose, resume on 8 to the end: the `ckpt hash` of the uninterrupted run. Each
# resume must start from the checkpoint the kill left as the newest (not start fresh: a
# retrain from step 0 gives the same bits too). G = 24, dropout on, synchronous saves every
# 2 steps (so which checkpoint is committed at a kill point is known). Slow: up to 8 ranks
# on 2 cores.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=30 --set train.grad_accum=24 --set train.micro_batch=1
      --set model.dropout=0.1 --set run.threads=1 --set checkpoint.every_steps=2 --set checkpoint.async=false
      --set checkpoint.keep_last=2 --set train.eval_every=0)

mpi 8 train "$TINY" "${SETS[@]}" --set run.dir=ref > ref.log
want=$(ckpt_hash ref)
[ -n "$want" ] || fail "no hash for the uninterrupted run"

# Runs on W ranks with CAIRN_KILL_AT=train.step@S (every rank SIGKILLs itself after step S,
# before that step's save); expects the run to have resumed from step `from` (0: fresh).
killed_run() {  # W S from
  local w=$1 s=$2 from=$3 status=0
  CAIRN_KILL_AT=train.step@$s mpi "$w" train "$TINY" "${SETS[@]}" --set run.dir=run > w$w.log 2> w$w.err || status=$?
  [ $status -ne 0 ] || fail "W $w: not killed at step $s"
  grep -q "CAIRN_KILL_AT: killing this process at" w$w.err || fail "W $w: kill point step $s not reached"
  resumed_from w$w.log "$from"
  pass "W $w: $([ "$from" -eq 0 ] && echo "started fresh" || echo "resumed from step $from"), SIGKILLed after step $s"
}
resumed_from() {  # log step (0: started fresh)
  if [ "$2" -eq 0 ]; then
    grep -q "resumed from" "$1" && fail "$1: resumed, expected a fresh start: $(grep 'resumed from' "$1")"
  else
    grep -q "resumed from run/checkpoints/$(printf 'step_%08d' "$2") at step $2 " "$1" \
      || fail "$1: expected a resume from step $2: $(grep -E 'resumed from|fresh' "$1" || echo 'no resume line')"
  fi
  return 0
}

killed_run 8 3 0    # saves at 2
killed_run 6 7 2    # saves at 4, 6
killed_run 5 10 6   # saves at 8

# On 3 ranks, an outside SIGKILL of every rank once step 13 is logged (saves at 10, 12, maybe
# a few more before the kill lands; 30 steps leave it a wide margin).
mpi 3 train "$TINY" "${SETS[@]}" --set run.dir=run > w3.log 2>&1 &
launcher=$!
wait_for_step $launcher run 13
kill -KILL $(job_ranks $launcher) $(job_mpirun $launcher) 2>/dev/null || true
wait $launcher 2>/dev/null || true
resumed_from w3.log 8
# The newest committed checkpoint: a renamed step directory with a manifest (the kill may land
# between that rename and the update of `latest`).
latest=$(cd run/checkpoints && for d in step_????????; do [ -f $d/manifest.json ] && echo $d; done | tail -1)
last=$((10#${latest#step_}))
[ "$last" -ge 12 ] && [ "$last" -lt 30 ] || fail "W 3: newest checkpoint after the kill is $latest"
pass "W 3: resumed from step 8, SIGKILLed from outside; newest checkpoint $latest"

mpi 8 train "$TINY" "${SETS[@]}" --set run.dir=run > w8-final.log
resumed_from w8-final.log "$last"
got=$(cairn ckpt hash run | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "8 -> 6 -> 5 -> 3 -> 8: hash $got != uninterrupted $want"
cairn ckpt verify run >/dev/null || fail "the final run's checkpoints do not verify"
pass "8 -> 6 -> 5 -> 3 -> 8 ranks with SIGKILLs: the uninterrupted run's hash $want"

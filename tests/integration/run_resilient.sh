#!/usr/bin/env bash
# scripts/run_resilient.sh supervises a 2-rank job through two SIGTERM preemptions of the
# ranks (exit 75, restarted with --resume auto) and one SIGKILL (mpirun exits 137, a crash:
# restarted too) to completion, ending with the same `ckpt hash` as an uninterrupted run.
# A config error (exit 1) is not retried.
source "$(dirname "$0")/lib.bash"
command -v mpirun >/dev/null && [ "${CAIRN_WITH_MPI:-TRUE}" = TRUE ] || { echo "SKIP: no MPI"; exit 77; }
SETS=("${TINY_SETS[@]}" --set run.threads=1 --set train.steps=300 --set checkpoint.every_steps=25)
RESILIENT=$CAIRN_SOURCE_DIR/scripts/run_resilient.sh

cairn train "$TINY" "${SETS[@]}" --set run.dir=ref >/dev/null  # 1 rank: the same bits as 2
want=$(ckpt_hash ref)

"$RESILIENT" --backoff 0 --max-restarts 5 -- mpirun --oversubscribe --bind-to none -np 2 "$CAIRN_BIN" \
  train "$TINY" "${SETS[@]}" --set run.dir=sup > sup.log 2>&1 &
sup=$!
interrupt() {  # at_step signal
  wait_for_step $sup sup "$1"
  local ranks; ranks=$(job_ranks $sup)
  [ -n "$ranks" ] || fail "no ranks to signal at step $1: $(tail -5 sup.log)"
  kill -"$2" $ranks
}
interrupt 60 TERM
interrupt 140 TERM
interrupt 220 KILL
status=0
wait $sup || status=$?
[ $status -eq 0 ] || fail "supervised run exited $status: $(grep run_resilient: sup.log)"
grep run_resilient: sup.log
[ "$(grep -c 'preempted (exit 75' sup.log)" = 2 ] || fail "expected two preemptions (exit 75)"
[ "$(grep -c 'crashed (exit 137: signal 9)' sup.log)" = 1 ] || fail "expected one crash (SIGKILL)"
[ "$(grep -c 'resumed from sup/checkpoints/step_' sup.log)" = 3 ] || fail "expected three resumes"
same_value "supervised run's final hash differs from the uninterrupted run's" "$(ckpt_hash sup)" "$want"
pass "two SIGTERM preemptions and a SIGKILL, restarted by run_resilient.sh: bitwise equal to the uninterrupted run"

status=0
"$RESILIENT" --backoff 0 -- "$CAIRN_BIN" train missing.toml > bad.log 2>&1 || status=$?
[ $status -eq 1 ] || fail "a config error should stop the supervisor with exit 1, got $status"
[ "$(grep -c 'attempt [0-9]*:.*train missing.toml' bad.log)" = 1 ] || fail "a config error was retried: $(cat bad.log)"
pass "a config error (exit 1) is not retried"

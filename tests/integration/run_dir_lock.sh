#!/usr/bin/env bash
# Exclusive run directory (train/run_lock.h): while a job trains into a run dir, a second
# `cairn train` on it — one process or a whole mpirun job — is refused with one clear line
# naming the holder, and leaves the running job untouched (it still ends bitwise equal to an
# uninterrupted run). A lock left by a SIGKILLed job does not block --resume auto.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=60 --set checkpoint.every_steps=10 --set run.threads=1)

cairn train "$TINY" "${SETS[@]}" --set run.dir=ref >/dev/null
want=$(ckpt_hash ref)

# Job A on 2 ranks, frozen (SIGSTOP) mid-run so the second attempts surely overlap it.
mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=run > a.log 2>&1 &
launcher=$!
wait_for_step $launcher run 15
ranks=$(job_ranks $launcher)
[ -n "$ranks" ] || fail "job A ended before it could be frozen: $(tail -3 a.log)"
stop_processes $ranks  # returns once no thread is inside a write (async saves)
cp run/config.toml config.before; ls -lR run > tree.before
OTHER=(--set run.log_every=7)  # a visibly different config: the refused jobs must not write theirs

expect_fail 1 "run directory run is in use by another cairn train (pid " cairn train "$TINY" "${SETS[@]}" "${OTHER[@]}" --set run.dir=run
holder=$(sed -n 's/^pid \([0-9]*\) on .*/\1/p' run/.lock)
printf '%s\n' $ranks | grep -qx "$holder" || fail "run/.lock names pid '$holder', not one of job A's ranks ($ranks)"
pass "a second process is refused, naming the holder (pid $holder)"

status=0
mpi 2 train "$TINY" "${SETS[@]}" "${OTHER[@]}" --set run.dir=run >b.log 2>b.err || status=$?
[ $status -ne 0 ] || fail "a second mpirun job on the same run dir was not refused"
[ "$(grep -c "is in use by another cairn train" b.err)" -eq 1 ] || fail "expected the refusal once (rank 0): $(cat b.err)"
pass "a second mpirun job is refused (exit $status), one message"

same_file config.before run/config.toml
ls -lR run > tree.after; same_file tree.before tree.after
kill -CONT $ranks
wait $launcher || fail "job A failed after the refused attempts: $(tail -3 a.log)"
same_value "job A's result differs from the uninterrupted run" "$(ckpt_hash run)" "$want"
pass "job A finished untouched, bitwise equal to the uninterrupted run"

# A stale lock: SIGKILL a job holding it; --resume auto goes ahead (on another world size).
# "$CAIRN_BIN", not the cairn function: $! must be the trainer itself, not a subshell that a
# SIGKILL would leave it orphaned under, still holding the lock.
"$CAIRN_BIN" train "$TINY" "${SETS[@]}" --set run.dir=killed > k.log 2>&1 &
pid=$!
wait_for_step $pid killed 25
kill -KILL $pid; wait $pid 2>/dev/null || true
[ -f killed/.lock ] || fail "no lock file left behind to test with"
mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=killed > resume.log
grep -q "resumed from killed/checkpoints/step_000000" resume.log || fail "did not resume: $(cat resume.log)"
same_value "resumed run differs from the uninterrupted one" "$(ckpt_hash killed)" "$want"
pass "the lock of a SIGKILLed job does not block resume"

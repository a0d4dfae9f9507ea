#!/usr/bin/env bash
# scripts/slurm/train.sbatch outside SLURM: run as the batch shell with SLURM's environment
# and a stand-in `scontrol`, it is sent SIGTERM (what --signal=B:TERM@120 does); the notice
# must travel batch shell -> run_resilient.sh -> mpirun (as SIGUSR1) -> ranks, which save and
# exit 75; the script then requeues the job. Run again (the requeued job), it resumes and
# finishes with the same `ckpt hash` as an uninterrupted run.
source "$(dirname "$0")/lib.bash"
command -v mpirun >/dev/null && [ "${CAIRN_WITH_MPI:-TRUE}" = TRUE ] || { echo "SKIP: no MPI"; exit 77; }
ARGS="--set data.train=$DATA/train_*.bin --set data.val=$DATA/val_*.bin --set run.threads=1 --set train.steps=400 --set checkpoint.every_steps=100"
# shellcheck disable=SC2086
cairn train "$TINY" $ARGS --set run.dir=ref >/dev/null
want=$(ckpt_hash ref)

mkdir bin
printf '#!/bin/sh\necho "$@" >> %s/scontrol.calls\n' "$WORK" > bin/scontrol
chmod +x bin/scontrol
job() {  # in a subshell: it becomes the batch shell
  cd "$CAIRN_SOURCE_DIR" && PATH=$WORK/bin:$PATH SLURM_JOB_ID=4242 SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=1 \
    SLURM_SUBMIT_DIR=$CAIRN_SOURCE_DIR CONFIG=$TINY RUN_DIR=$WORK/run CAIRN=$CAIRN_BIN CAIRN_ARGS="$ARGS" \
    MPIRUN_ARGS=--oversubscribe exec bash scripts/slurm/train.sbatch
}
job > job1.log 2>&1 &
batch=$!
wait_for_step $batch run 50
kill -TERM $batch
status=0
wait $batch || status=$?
[ $status -eq 75 ] || fail "batch script exited $status, expected 75: $(tail -5 job1.log)"
grep -q "requeue 4242" scontrol.calls || fail "the job was not requeued"
grep -q "passing it on to the job as SIGUSR1" job1.log || fail "the supervisor did not forward the notice"
step=$(sed -n 's/.*saving step \([0-9]*\) and exiting.*/\1/p' job1.log | head -1)
[ -n "$step" ] || fail "the ranks did not save on the notice: $(tail -5 job1.log)"
pass "SIGTERM to the batch shell: ranks saved step $step, exit 75, job requeued"

(job) > job2.log 2>&1 || fail "the requeued job failed: $(tail -5 job2.log)"
grep -q "resumed from $WORK/run/checkpoints/step_$(printf %08d "$step")" job2.log || fail "requeued job did not resume"
same_value "requeued run differs from the uninterrupted one" "$(ckpt_hash run)" "$want"
pass "the requeued job resumed from step $step and ended bitwise equal to an uninterrupted run"

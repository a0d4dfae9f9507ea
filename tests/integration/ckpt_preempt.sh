#!/usr/bin/env bash
# SIGTERM (a preemption notice) to every rank: exit 75 with a checkpoint committed at the
# step where the ranks agreed to stop; resume is bitwise exact. Also SIGUSR1 through mpirun.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=2000 --set checkpoint.every_steps=1000 --set run.threads=1)

mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=ref >/dev/null
want=$(ckpt_hash ref)

preempt() {  # name, how: ranks|mpirun
  local name=$1 how=$2 status=0
  mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=$name > $name.log 2>&1 &
  local launcher=$!
  wait_for_step $launcher $name 30
  if [ $how = ranks ]; then kill -TERM $(job_ranks $launcher); else kill -USR1 $(job_mpirun $launcher); fi
  wait $launcher || status=$?
  [ $status -eq 75 ] || fail "$name: expected exit 75, got $status: $(tail -3 $name.log)"
  local at; at=$(sed -n 's/.*saving step \([0-9]*\) and exiting.*/\1/p' $name.log | head -1)
  [ -n "$at" ] || fail "$name: no preemption message"
  [ "$(cat $name/checkpoints/latest)" = "$(printf 'step_%08d' $at)" ] || fail "$name: latest is not step $at"
  cairn ckpt verify $name/checkpoints/$(cat $name/checkpoints/latest) >/dev/null || fail "$name: checkpoint does not verify"
  mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=$name > $name.resume.log
  grep -q "resumed from .*step_$(printf '%08d' $at) at step $at" $name.resume.log || fail "$name: did not resume from step $at"
  same_value "$name: resumed run differs from the uninterrupted one" "$(ckpt_hash $name)" "$want"
  pass "$name: preempted at step $at, exit 75, resumed bitwise exact"
}
preempt sigterm ranks
preempt sigusr1 mpirun

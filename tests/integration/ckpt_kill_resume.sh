#!/usr/bin/env bash
# SIGKILL at several instants — between steps, mid-save (a rank's shard written, the vote
# not yet held), with the manifest written but not renamed, right after the rename, right
# after the commit, and at an arbitrary moment from outside — then `--resume auto`, often
# on another world size (2->4, 4->2, 4->1, ...). Each run must end with the same
# `ckpt hash` as an uninterrupted run, and every committed checkpoint must still verify.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=24 --set checkpoint.every_steps=5 --set run.threads=1)

mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=ref >/dev/null
want=$(cairn ckpt hash ref | cut -d' ' -f1)

case_() {  # name W_kill kill_point W_resume
  local name=$1 wk=$2 point=$3 wr=$4 status=0
  CAIRN_KILL_AT=$point mpi "$wk" train "$TINY" "${SETS[@]}" --set run.dir=$name >/dev/null 2>$name.err || status=$?
  [ $status -ne 0 ] || fail "$name: the run was not killed at $point"
  grep -q "CAIRN_KILL_AT: killing this process at" $name.err || fail "$name: kill point $point not reached"
  if [ -d $name/checkpoints ] && ls $name/checkpoints | grep -qv '\.tmp$\|^latest'; then
    cairn ckpt verify $name >/dev/null || fail "$name: a committed checkpoint does not verify after the kill"
  fi
  mpi "$wr" train "$TINY" "${SETS[@]}" --set run.dir=$name > $name.resume.log
  local got; got=$(cairn ckpt hash $name | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$name: hash $got != uninterrupted $want"
  pass "$name: killed on $wk ranks at $point, resumed on $wr: $(grep -o 'resumed from [^ ]*' $name.resume.log || echo 'started fresh')"
}

case_ between_steps          2 train.step@12               2
case_ mid_save_2to4          2 ckpt.shard_written@15:rank=1 4
case_ manifest_not_renamed   4 ckpt.manifest_written@15    2
case_ renamed_not_latest     4 ckpt.renamed@15             1
case_ right_after_commit     2 ckpt.committed@15           4
case_ between_steps_4to2     4 train.step@17               2

# An outside SIGKILL of the whole job at a moment the test does not choose.
mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=outside --set train.steps=24 >/dev/null 2>&1 &
launcher=$!
wait_for_step $launcher outside 9
kill -KILL $(job_ranks $launcher) $(job_mpirun $launcher) 2>/dev/null || true
wait $launcher 2>/dev/null || true
mpi 1 train "$TINY" "${SETS[@]}" --set run.dir=outside > outside.resume.log
[ "$(cairn ckpt hash outside | cut -d' ' -f1)" = "$want" ] || fail "outside kill: hash differs"
pass "outside SIGKILL, resumed on 1 rank: $(grep -o 'resumed from [^ ]*' outside.resume.log || echo 'started fresh')"

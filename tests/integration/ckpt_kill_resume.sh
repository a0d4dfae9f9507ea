#!/usr/bin/env bash
# SIGKILL at several instants — between steps, mid-save (a rank's shard written, the vote
# not yet held), with the manifest written but not renamed, right after the rename, right
# after the commit, and at an arbitrary moment from outside — then `--resume auto`, often
# on another world size (2->4, 4->2, 4->1, ...). Each resume must start from the newest
# committed checkpoint (the step named for the case; retraining from step 0 or an older
# checkpoint gives the same final bits, so the final hash alone cannot tell), and each run
# must end with the same `ckpt hash` as an uninterrupted run; every committed checkpoint must
# still verify.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=24 --set checkpoint.every_steps=5 --set run.threads=1)

mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=ref >/dev/null
want=$(ckpt_hash ref)

# Resume RUN_DIR on W ranks; it must start from the newest committed checkpoint, which must be
# step EXPECTED ("any": whichever it is, as the background write of the previous save may or
# may not have finished when the kill came; "any-or-none": none may be committed yet), and end
# with the uninterrupted run's hash.
resume_and_check() {  # run_dir W expected
  local name=$1 wr=$2 expected=$3 newest
  newest=$(newest_committed $name)
  case $expected in
    any-or-none) ;;
    any) [ -n "$newest" ] || fail "$name: no committed checkpoint after the kill" ;;
    *) same_value "$name: newest committed checkpoint after the kill" "$newest" "$expected" ;;
  esac
  mpi "$wr" train "$TINY" "${SETS[@]}" --set run.dir=$name > $name.resume.log
  if [ -n "$newest" ]; then
    same_value "$name: resumed step (metrics.jsonl)" "$(resumed_step $name)" "$newest"
    grep -q "^resumed from $name/checkpoints/step_$(printf %08d $newest) at step $newest " $name.resume.log ||
      fail "$name: no 'resumed from ... step $newest' line: $(grep -i 'resum\|scratch' $name.resume.log)"
  else
    [ -z "$(resumed_step $name)" ] || fail "$name: resumed although no checkpoint was committed"
  fi
  same_value "$name: final hash vs uninterrupted run" "$(ckpt_hash $name)" "$want"
}

case_() {  # name W_kill kill_point W_resume expected_resume_step
  local name=$1 wk=$2 point=$3 wr=$4 expected=$5 status=0
  CAIRN_KILL_AT=$point mpi "$wk" train "$TINY" "${SETS[@]}" --set run.dir=$name >/dev/null 2>$name.err || status=$?
  [ $status -ne 0 ] || fail "$name: the run was not killed at $point"
  grep -q "CAIRN_KILL_AT: killing this process at" $name.err || fail "$name: kill point $point not reached"
  if [ -d $name/checkpoints ] && ls $name/checkpoints | grep -qv '\.tmp$\|^latest'; then
    cairn ckpt verify $name >/dev/null || fail "$name: a committed checkpoint does not verify after the kill"
  fi
  resume_and_check $name $wr $expected
  pass "$name: killed on $wk ranks at $point, resumed on $wr from step $(resumed_step $name)"
}

# A save of step 15 starts only once the save of 10 has committed (never two in flight).
# Killed between steps 12 and 17: the background write of 10 (or 15) may not be finished.
case_ between_steps          2 train.step@12                2 any
case_ mid_save_2to4          2 ckpt.shard_written@15:rank=1 4 10
case_ manifest_not_renamed   4 ckpt.manifest_written@15     2 10
case_ renamed_not_latest     4 ckpt.renamed@15              1 15
case_ right_after_commit     2 ckpt.committed@15            4 15
case_ between_steps_4to2     4 train.step@17                2 any

# An outside SIGKILL of the whole job at a moment the test does not choose.
kill_job_at_step 2 outside 9 train "$TINY" "${SETS[@]}" --set run.dir=outside --set train.steps=24
resume_and_check outside 1 any-or-none
pass "outside SIGKILL, resumed on 1 rank from step $(resumed_step outside)"

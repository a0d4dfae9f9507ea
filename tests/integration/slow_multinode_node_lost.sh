#!/usr/bin/env bash
# A node lost: 4 ranks on 2 nodes (network namespaces on a private bridge, TCP between them,
# scripts/netns_cluster.sh), and every process of node2 (its OpenMPI daemon and both ranks)
# SIGKILLed at once: during an asynchronous save (rank 2's writer held in the write), during
# the commit vote (rank 3 held just before it, the other ranks waiting in it), and at a random
# instant of the run. Each time the job must come down by itself within the bound, every
# checkpoint committed before the kill must still be there and verify, and `--resume auto` on
# the surviving node alone (2 ranks; 3 after the random kill) must reach the uninterrupted run's `ckpt hash`.
# The time from the kill to mpirun's exit is printed (docs/running.md quotes it).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/multinode.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=24 --set checkpoint.every_steps=5 --set checkpoint.keep_last=10
      --set run.threads=1)
BOUND=${CAIRN_MULTINODE_BOUND:-60}  # seconds from the fault to the job's exit: past it, a hang
seed=${CAIRN_TEST_SEED:-$RANDOM}; RANDOM=$seed; echo "random seed $seed (CAIRN_TEST_SEED)"

cluster_up 2
mrun node1:2,node2:2 train "$TINY" "${SETS[@]}" --set run.dir=ref > ref.log 2>&1 || fail "reference run: $(tail -5 ref.log)"
want=$(cairn ckpt hash ref | cut -d' ' -f1)

# case_ NAME DELAY_SPEC|"" WAIT_TEXT: start the job, wait for WAIT_TEXT (or a random instant),
# SIGKILL node2, then check and resume.
case_() {
  local name=$1 delay=$2 text=$3 resume_hosts=${4:-node1:2}
  CAIRN_DELAY_AT=$delay mrun node1:2,node2:2 train "$TINY" "${SETS[@]}" --set run.dir=$name > $name.log 2>&1 &
  local job=$!
  if [ -n "$text" ]; then
    wait_for_text $name.log "$text" $job
  else
    # A random instant mid-run: after a random step's metrics line, a random 0-300 ms more.
    local at=$((3 + RANDOM % 17)) ms=$((RANDOM % 300))
    wait_for_step $job $name $at
    sleep "$(awk -v m=$ms 'BEGIN{print m/1000}')"
    kill -0 $job 2>/dev/null || fail "$name: the job finished before the kill"
    name="$name (step $at + $ms ms)"
  fi
  local before; before=$(ckpt_steps ${1})
  netns kill node2
  local took; took=$(seconds_until_exit $job "$BOUND" "$name")
  local status=0; wait $job || status=$?
  [ $status -ne 0 ] || fail "$name: mpirun exited 0 after node2 was killed"
  for s in $before; do
    ckpt_steps $1 | grep -qx $s || fail "$name: checkpoint step $s, committed before the kill, is gone"
  done
  [ -z "$before" ] || cairn ckpt verify $1 >/dev/null || fail "$name: a committed checkpoint does not verify"
  mrun $resume_hosts train "$TINY" "${SETS[@]}" --set run.dir=$1 > $1.resume.log 2>&1 || fail "$name: resume: $(tail -5 $1.resume.log)"
  local got; got=$(cairn ckpt hash $1 | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$name: hash $got != uninterrupted $want"
  pass "$name: node2 killed, mpirun exit $status after $took s, committed before: $(echo $before), resumed on $resume_hosts $(grep -o 'resumed from [^ ]*' $1.resume.log || echo 'from scratch'): same hash"
}

case_ during_async_save "ckpt.async.write@10=5000:rank=2" "CAIRN_DELAY_AT: pausing"
case_ during_vote       "ckpt.vote@15=5000:rank=3"        "CAIRN_DELAY_AT: pausing"
case_ random_instant    ""                                ""  node1:3  # 3 ranks: any W resumes

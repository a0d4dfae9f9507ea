#!/usr/bin/env bash
# A network cut: 4 ranks on 2 nodes (scripts/netns_cluster.sh), and node2's link to the bridge
# taken down — no process dies, no socket is closed, packets just stop — at a random instant
# mid-step and while an asynchronous save is in flight (rank 2's writer held in the write).
# OpenMPI's daemon connections carry TCP keepalive (netns_cluster.sh sets
# oob_tcp_keepalive_time/intvl/probes = 5/1/3): mpirun must notice the silent node and take the
# job down within the bound; every checkpoint committed before the cut must still be there and
# verify; `--resume auto` on node1 alone (2 ranks) must reach the uninterrupted `ckpt hash`.
# What the cut node is left running is counted (a real cluster would reboot it; here the test
# kills it before healing the link). The time from the cut to mpirun's exit is printed.
# Without the keepalive settings the bound fails it: CAIRN_NETNS_KEEPALIVE_TIME=300
# CAIRN_NETNS_KEEPALIVE_INTVL=20 CAIRN_NETNS_KEEPALIVE_PROBES=9 (OpenMPI's defaults) with
# CAIRN_MULTINODE_BOUND=30 gives "the job did not come down within 30 s of the fault (hang)".
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/multinode.bash"
# 200 steps: the tiny model trains a step in a few milliseconds, and with 24 the random instant
# (up to step 19 + 300 ms) could fall after the last step, in MPI's teardown (a CI run saw
# that hang: not the mid-step cut this test is about).
SETS=("${TINY_SETS[@]}" --set train.steps=200 --set checkpoint.every_steps=5 --set checkpoint.keep_last=10
      --set run.threads=1)
BOUND=${CAIRN_MULTINODE_BOUND:-60}
seed=${CAIRN_TEST_SEED:-$RANDOM}; RANDOM=$seed; echo "random seed $seed (CAIRN_TEST_SEED)"

cluster_up 2
mrun node1:2,node2:2 train "$TINY" "${SETS[@]}" --set run.dir=ref > ref.log 2>&1 || fail "reference run: $(tail -5 ref.log)"
want=$(cairn ckpt hash ref | cut -d' ' -f1)

case_() {
  local name=$1 delay=$2 text=$3
  CAIRN_DELAY_AT=$delay mrun node1:2,node2:2 train "$TINY" "${SETS[@]}" --set run.dir=$name > $name.log 2>&1 &
  local job=$!
  if [ -n "$text" ]; then
    wait_for_text $name.log "$text" $job
  else
    # A random instant mid-run: after a random step's metrics line, a random 0-300 ms more.
    local at=$((3 + RANDOM % 17)) ms=$((RANDOM % 300))
    wait_for_step $job $name $at
    sleep "$(awk -v m=$ms 'BEGIN{print m/1000}')"
    kill -0 $job 2>/dev/null || fail "$name: the job finished before the cut"
    ! grep -q '^done:' $name.log || fail "$name: training finished before the cut (only teardown was left)"
    name="$name (step $at + $ms ms)"
  fi
  local before; before=$(ckpt_steps $1)
  netns cut node2
  local took; took=$(seconds_until_exit $job "$BOUND" "$name")
  local status=0; wait $job || status=$?
  [ $status -ne 0 ] || fail "$name: mpirun exited 0 after node2 was cut off"
  local left; left=$(netns pids node2 | wc -l)
  netns kill node2
  netns heal node2
  for s in $before; do
    ckpt_steps $1 | grep -qx $s || fail "$name: checkpoint step $s, committed before the cut, is gone"
  done
  [ -z "$before" ] || cairn ckpt verify $1 >/dev/null || fail "$name: a committed checkpoint does not verify"
  mrun node1:2 train "$TINY" "${SETS[@]}" --set run.dir=$1 > $1.resume.log 2>&1 || fail "$name: resume: $(tail -5 $1.resume.log)"
  local got; got=$(cairn ckpt hash $1 | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$name: hash $got != uninterrupted $want"
  pass "$name: node2 cut off, mpirun exit $status after $took s ($left processes left on node2), committed before: $(echo $before), resumed on node1 (2 ranks) $(grep -o 'resumed from [^ ]*' $1.resume.log || echo 'from scratch'): same hash"
}

case_ mid_step          ""                                ""
case_ during_async_save "ckpt.async.write@10=5000:rank=2" "CAIRN_DELAY_AT: pausing"

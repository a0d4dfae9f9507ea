#!/usr/bin/env bash
# run.dir not shared between nodes: 4 ranks on 2 nodes (scripts/netns_cluster.sh) where each
# node sees its own copy of the directory holding run.dir (CAIRN_NETNS_PRIVATE: a per-node
# directory bind-mounted over it in the node's mount namespace, like a node-local disk).
# `cairn train` must refuse in one line saying what is needed, before any training step, both
# on a fresh start and when resuming (node1's copy holds a checkpointed run, node2's is empty);
# nothing in the run directory may change. A shared run.dir on the same cluster trains.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/multinode.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=10 --set checkpoint.every_steps=5 --set run.threads=1)
WANT="is not shared between the ranks: rank 0 on node1 cannot see the probe file of ranks 2 on node2 (no such directory there), 3 on node2 (no such directory there); on several nodes run.dir must be one directory on a filesystem every node mounts at the same path"

cluster_up 2
mrun node1:2,node2:2 train "$TINY" "${SETS[@]}" --set run.dir=shared > shared.log 2>&1 || fail "shared run.dir: $(tail -5 shared.log)"
grep -q '"split":"train","step":10,' shared/metrics.jsonl || fail "the shared run did not train"

# refused RUN_DIR NAME: the job must fail with WANT as cairn's only error line and log no step.
refused() {
  local status=0
  CAIRN_NETNS_PRIVATE=$WORK/local mrun node1:2,node2:2 train "$TINY" "${SETS[@]}" --set run.dir=$1 > $2.log 2>&1 || status=$?
  [ $status -ne 0 ] || fail "$2: a non-shared run.dir was accepted"
  grep -qF "$WANT" $2.log || fail "$2: no refusal naming the ranks and the need: $(cat $2.log)"
  [ "$(grep -c 'error: ' $2.log)" = 1 ] || fail "$2: not exactly one cairn error line: $(cat $2.log)"
  ! grep -q 'step *[0-9]*/[0-9]* |\|resumed from' $2.log || fail "$2: a training step ran or a checkpoint was loaded before the refusal: $(cat $2.log)"
  pass "$2: refused before any step: $(grep -F "$WANT" $2.log | head -1)"
}
node1_view=${TMPDIR:-/tmp}/cairn-netns-$CAIRN_NETNS_ID/private-node1

refused "$WORK/local/fresh" fresh
[ ! -e "$node1_view/fresh/metrics.jsonl" ] || ! grep -q '"split":"train"' "$node1_view/fresh/metrics.jsonl" ||
  fail "fresh: a step was logged"

# Resume: node1's view holds a checkpointed run (a copy of the shared one), node2's has none.
cp -a shared "$node1_view/resumed"
before=$(cd "$node1_view/resumed" && find . -type f ! -name '.lock' -exec sha256sum {} + | sort)
refused "$WORK/local/resumed" resume
after=$(cd "$node1_view/resumed" && find . -type f ! -name '.lock' -exec sha256sum {} + | sort)
[ "$before" = "$after" ] || fail "resume: the refused job changed the run directory: $(diff <(echo "$before") <(echo "$after"))"

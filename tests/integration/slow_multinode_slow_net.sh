#!/usr/bin/env bash
# A slow, lossy network for a whole run: 4 ranks on 2 nodes (scripts/netns_cluster.sh) with
# node2's link shaped both ways by a token bucket (tc tbf: 8 Mbit/s, a queue of 2 ms, so bursts
# beyond it are dropped and TCP retransmits them: packet loss without netem, which this kernel
# lacks). The run must finish with exactly the uninterrupted run's `ckpt hash` (the one over an
# unshaped link, and one on a single host), only slower; the test checks that packets were in
# fact dropped and delayed.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/multinode.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=24 --set checkpoint.every_steps=5 --set run.threads=1)

mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=local > local.log 2>&1 || fail "local run: $(tail -5 local.log)"
want=$(cairn ckpt hash local | cut -d' ' -f1)

cluster_up 2
t0=$EPOCHREALTIME
mrun node1:2,node2:2 train "$TINY" "${SETS[@]}" --set run.dir=fast > fast.log 2>&1 || fail "unshaped run: $(tail -5 fast.log)"
fast=$(awk -v a=$EPOCHREALTIME -v b=$t0 'BEGIN{printf "%.1f", a-b}')
[ "$(cairn ckpt hash fast | cut -d' ' -f1)" = "$want" ] || fail "4 ranks on 2 nodes over TCP differ from 2 ranks on one host"

netns slow node2 8mbit 2ms
t0=$EPOCHREALTIME
mrun node1:2,node2:2 train "$TINY" "${SETS[@]}" --set run.dir=slow > slow.log 2>&1 || fail "shaped run: $(tail -5 slow.log)"
slow=$(awk -v a=$EPOCHREALTIME -v b=$t0 'BEGIN{printf "%.1f", a-b}')
[ "$(cairn ckpt hash slow | cut -d' ' -f1)" = "$want" ] || fail "the run over the slow, lossy link has another hash"
stats=$(netns exec node2 tc -s qdisc show dev eth0)
sent=$(echo "$stats" | sed -n 's/.*Sent \([0-9]*\) bytes.*/\1/p' | head -1)
dropped=$(echo "$stats" | sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' | head -1)
overlimits=$(echo "$stats" | sed -n 's/.*overlimits \([0-9]*\).*/\1/p' | head -1)
[ "${overlimits:-0}" -gt 0 ] || fail "the shaper never held a packet back: $stats"
pass "tbf 8mbit/2ms on node2's link: same hash as unshaped ($fast s) and single-host, in $slow s; node2 sent $sent bytes, $dropped dropped, $overlimits held back"

# tests/integration/multinode.bash — helpers for the multi-node tests (slow_multinode_*.sh):
# a cluster of network namespaces from scripts/netns_cluster.sh, torn down on every exit.
# Source after lib.bash. Gives:
#   cluster_up N                       N nodes (node1..nodeN) on a private bridge
#   netns ARGS...                      scripts/netns_cluster.sh ARGS... for this test's cluster
#   mrun HOSTS ARGS...                 mpirun -H HOSTS cairn ARGS... on the cluster (foreground)
#   wait_for_text FILE TEXT PID        until FILE contains TEXT (fails if PID ends first)
#   seconds_until_exit PID BOUND NAME  waits for PID; prints the seconds it took; fails (and
#                                      kills the job) past BOUND seconds: a job that hangs
#   ckpt_steps DIR                     committed checkpoint steps of a run dir, one per line
# Skips (exit 77) with the reason where namespaces cannot be made (not root, no iproute2,
# a container without CAP_NET_ADMIN/CAP_SYS_ADMIN) or MPI is missing.
skip() { echo "SKIP: $*" >&2; exit 77; }
[ "${CAIRN_WITH_MPI:-TRUE}" = TRUE ] && command -v mpirun >/dev/null || skip "built without MPI or mpirun missing"
[ "$(id -u)" = 0 ] || skip "multi-node tests need root to create network namespaces (ip netns)"
for tool in ip unshare flock; do command -v $tool >/dev/null || skip "multi-node tests need '$tool'"; done
probe=cairn-probe-$$
ip netns add $probe 2>/dev/null && ip -n $probe link add b0 type bridge 2>/dev/null &&
  ip netns exec $probe unshare --uts --mount true 2>/dev/null ||
  { ip netns del $probe 2>/dev/null; skip "network namespaces, bridges or unshare not permitted here"; }
ip netns del $probe

NETNS_SCRIPT=$CAIRN_SOURCE_DIR/scripts/netns_cluster.sh
# A cluster ID nobody else holds (tests may run in parallel): an flock held for our lifetime.
for id in $(seq 20 199); do
  exec {cluster_lock}>"${TMPDIR:-/tmp}/cairn-netns-$id.lock"
  if flock -n $cluster_lock; then export CAIRN_NETNS_ID=$id; break; fi
  exec {cluster_lock}>&-
done
[ -n "${CAIRN_NETNS_ID:-}" ] || skip "no free cluster ID"
netns() { "$NETNS_SCRIPT" "$@"; }
trap 'rc=$?; netns down || true; cleanup_work $rc' EXIT

cluster_up() { netns up "$1" >/dev/null; }
mrun() {
  local hosts=$1; shift
  netns mpirun -H "$hosts" --bind-to none "$CAIRN_BIN" "$@"
}
wait_for_text() {
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || fail "the job ended before '$2' appeared in $1: $(tail -3 "$1")"
    sleep 0.05
  done
}
seconds_until_exit() {
  local pid=$1 bound=$2 name=$3 t0=$EPOCHREALTIME
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(awk -v a="$EPOCHREALTIME" -v b="$t0" -v m="$bound" 'BEGIN{print (a-b>m)}') )); then
      kill -KILL "$pid" 2>/dev/null || true
      fail "$name: the job did not come down within $bound s of the fault (hang)"
    fi
    sleep 0.05
  done
  awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN{printf "%.1f", a-b}'
}
ckpt_steps() { { ls "$1/checkpoints" 2>/dev/null || true; } | sed -n 's/^step_0*\([0-9][0-9]*\)$/\1/p'; }

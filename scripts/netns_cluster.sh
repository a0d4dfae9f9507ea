#!/usr/bin/env bash
# scripts/netns_cluster.sh — a multi-node cluster on one Linux machine, for testing cairn over a
# real network: every "node" is a network namespace with its own interface, address and
# hostname, joined to the others by a bridge that lives in a namespace of its own (nothing is
# added to the host's namespace, so no traffic can leave the machine). OpenMPI reaches the
# nodes through scripts/netns_rsh.sh, an rsh agent that runs its command inside the named
# namespace, and talks TCP between them (btl tcp,self: no shared memory between nodes).
# Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN), iproute2 and util-linux's unshare.
#
#   netns_cluster.sh up N                  N nodes node1..nodeN (10.213.ID.1..N) + a head
#                                          (10.213.ID.254) that runs mpirun; replaces a cluster
#                                          of the same ID
#   netns_cluster.sh down                  kill every process in the cluster's namespaces,
#                                          delete them and the state directory (idempotent)
#   netns_cluster.sh mpirun ARGS...        mpirun on the head with the cluster's MCA settings,
#                                          e.g. mpirun -H node1:2,node2:2 cairn train ...
#   netns_cluster.sh exec NODE CMD...      run CMD on NODE (head, node1, ...)
#   netns_cluster.sh kill NODE             SIGKILL every process on NODE (a node lost)
#   netns_cluster.sh cut NODE | heal NODE  take NODE's link down / up (a network cut)
#   netns_cluster.sh slow NODE RATE LAT    tbf on NODE's link, both ways (e.g. 20mbit 5ms)
#   netns_cluster.sh pids NODE             processes on NODE
#   netns_cluster.sh env                   the MCA settings, as shell exports (keepalive from
#                                          CAIRN_NETNS_KEEPALIVE_TIME/_INTVL/_PROBES, default 5/1/3)
#
# Several clusters may exist at once: CAIRN_NETNS_ID (0-199, default 0) picks the namespaces'
# prefix (cairn<ID>-), the subnet 10.213.<ID>.0/24 and the state directory. Set
# CAIRN_NETNS_PRIVATE=DIR (an absolute path) when calling `mpirun` to give each node its own
# DIR (a per-node directory bind-mounted over it): a run.dir that is not shared between nodes.
# How a dead node is noticed and how long it takes: docs/running.md ("Several nodes").
set -euo pipefail

ID=${CAIRN_NETNS_ID:-0}
[[ $ID =~ ^[0-9]+$ ]] && [ "$ID" -le 199 ] || { echo "netns_cluster: CAIRN_NETNS_ID must be 0-199" >&2; exit 2; }
P=cairn$ID
NET=10.213.$ID
STATE=${TMPDIR:-/tmp}/cairn-netns-$ID
HERE=$(cd "$(dirname "$0")" && pwd)

ns_of() {  # node name -> namespace
  case $1 in
    head) echo "$P-head" ;;
    node[0-9]*) echo "$P-$1" ;;
    *) echo "netns_cluster: unknown node '$1' (head, node1, node2, ...)" >&2; return 2 ;;
  esac
}
cluster_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$P-(head|br|node[0-9]+)\$" || true; }

# The MCA settings every mpirun on this cluster uses. Keepalive on the daemons' (OOB) TCP
# connections makes mpirun notice a node that vanished without closing its sockets (a cut
# link) in about keepalive_time + probes * intvl seconds instead of OpenMPI's default 8 min.
mca_env() {
  cat <<EOF
export OMPI_MCA_plm_rsh_agent=$HERE/netns_rsh.sh
export OMPI_MCA_plm_rsh_no_tree_spawn=1
export OMPI_MCA_btl=tcp,self
export OMPI_MCA_btl_tcp_if_include=$NET.0/24
export OMPI_MCA_oob_tcp_if_include=$NET.0/24
export OMPI_MCA_oob_tcp_keepalive_time=${CAIRN_NETNS_KEEPALIVE_TIME:-5}
export OMPI_MCA_oob_tcp_keepalive_intvl=${CAIRN_NETNS_KEEPALIVE_INTVL:-1}
export OMPI_MCA_oob_tcp_keepalive_probes=${CAIRN_NETNS_KEEPALIVE_PROBES:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export CAIRN_NETNS_ID=$ID
EOF
}

down() {
  local ns pid
  for ns in $(cluster_namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  for ns in $(cluster_namespaces); do
    ip netns del "$ns" 2>/dev/null || true  # deleting a namespace deletes its veth ends
    rm -rf "/etc/netns/$ns"
  done
  rm -rf "$STATE"
}

up() {
  local n=$1 i ns
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 16 ] || { echo "netns_cluster: up N with N in 1..16" >&2; exit 2; }
  down
  mkdir -p "$STATE"
  local hosts="127.0.0.1 localhost"$'\n'"$NET.254 head"
  for i in $(seq 1 "$n"); do hosts+=$'\n'"$NET.$i node$i"; done
  ip netns add "$P-br"
  ip -n "$P-br" link add br0 type bridge
  ip -n "$P-br" link set br0 up
  ip -n "$P-br" link set lo up
  for node in head $(seq -f 'node%g' 1 "$n"); do
    ns=$(ns_of "$node")
    local addr=$NET.${node#node}; [ "$node" = head ] && addr=$NET.254
    ip netns add "$ns"
    # veth pair: eth0 in the node, <node> in the bridge namespace, enslaved to br0.
    ip -n "$ns" link add eth0 type veth peer name "$node" netns "$P-br"
    ip -n "$P-br" link set "$node" master br0 up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    mkdir -p "/etc/netns/$ns"  # `ip netns exec` bind-mounts these over /etc/hosts, /etc/hostname
    printf '%s\n' "$hosts" > "/etc/netns/$ns/hosts"
    echo "$node" > "/etc/netns/$ns/hostname"
  done
  mca_env > "$STATE/env.sh"
  for i in $(seq 1 "$n"); do echo "node$i slots=2"; done > "$STATE/hostfile"
  # Every node must reach every other one (and the head) before anything runs on them.
  for i in $(seq 1 "$n"); do
    # No ping here: a TCP connect to a closed port is refused at once when the node answers.
    local out; out=$(ip netns exec "$P-head" timeout 3 bash -c "exec 3<>/dev/tcp/$NET.$i/9" 2>&1 || true)
    [[ $out == *"refused"* ]] ||
      { echo "netns_cluster: node$i ($NET.$i) does not answer on the bridge" >&2; down; exit 1; }
  done
  echo "netns_cluster: $n nodes up (node1..node$n = $NET.1..$NET.$n, head = $NET.254); hostfile $STATE/hostfile; settings $STATE/env.sh"
}

link_of() { [ "$1" = head ] || ns_of "$1" >/dev/null; echo "$1"; }  # the node's port on br0

cmd=${1:-}
shift || true
case $cmd in
  up) [ $# -eq 1 ] || { echo "usage: netns_cluster.sh up N" >&2; exit 2; }; up "$1" ;;
  down) down ;;
  env) mca_env ;;
  mpirun)
    [ -d "$STATE" ] || { echo "netns_cluster: no cluster $ID is up (netns_cluster.sh up N first)" >&2; exit 1; }
    eval "$(mca_env)"
    exec ip netns exec "$P-head" unshare --uts sh -c 'hostname head && exec mpirun "$@"' mpirun "$@" ;;
  exec)
    ns=$(ns_of "$1"); shift
    exec ip netns exec "$ns" "$@" ;;
  pids) ip netns pids "$(ns_of "$1")" ;;
  kill)
    ns=$(ns_of "$1")
    # Repeat while anything is left: a process forked between listing and killing.
    for _ in 1 2 3; do
      pids=$(ip netns pids "$ns")
      [ -n "$pids" ] || break
      kill -KILL $pids 2>/dev/null || true
    done ;;
  cut) ip -n "$P-br" link set "$(link_of "$1")" down ;;
  heal) ip -n "$P-br" link set "$(link_of "$1")" up ;;
  slow)
    [ $# -eq 3 ] || { echo "usage: netns_cluster.sh slow NODE RATE LATENCY" >&2; exit 2; }
    ns=$(ns_of "$1")
    # tbf shapes egress only: once on the node's eth0 (outgoing) and once on its port in the
    # bridge namespace (incoming to the node).
    ip netns exec "$ns" tc qdisc replace dev eth0 root tbf rate "$2" latency "$3" burst 16kb
    ip netns exec "$P-br" tc qdisc replace dev "$1" root tbf rate "$2" latency "$3" burst 16kb ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

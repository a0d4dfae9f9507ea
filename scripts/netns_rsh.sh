#!/usr/bin/env bash
# scripts/netns_rsh.sh — OpenMPI's rsh agent for scripts/netns_cluster.sh: mpirun calls it as
# it would call ssh (`netns_rsh.sh [options] HOST COMMAND...`) and it runs COMMAND with a shell
# inside HOST's network namespace, with HOST as the hostname (own UTS namespace) and, when
# CAIRN_NETNS_PRIVATE names a directory, a node-local copy of that directory (own mount
# namespace, a per-node directory bind-mounted over it): a run.dir that is not shared.
set -euo pipefail
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done  # ssh-style options: none apply
host=${1:?netns_rsh.sh: no host}; shift
ID=${CAIRN_NETNS_ID:-0}
case $host in
  node[0-9]*|head) ;;
  *) echo "netns_rsh.sh: '$host' is not a node of cluster $ID (node1, node2, ...)" >&2; exit 255 ;;
esac
ns=cairn$ID-$host
ip netns list | awk '{print $1}' | grep -qx "$ns" || { echo "netns_rsh.sh: no namespace $ns (netns_cluster.sh up N)" >&2; exit 255; }
# The node's own temporary directory: OpenMPI's session directory lives there (as it would
# on a real node), so daemons of different nodes never share one.
tmp=${TMPDIR:-/tmp}/cairn-netns-$ID/tmp-$host
mkdir -p "$tmp"
private=${CAIRN_NETNS_PRIVATE:-}
if [ -n "$private" ]; then
  mkdir -p "$private" "${TMPDIR:-/tmp}/cairn-netns-$ID/private-$host"
fi
exec ip netns exec "$ns" unshare --uts --mount --propagation private sh -c '
  hostname "$1"
  if [ -n "$2" ]; then mount --bind "$3" "$2"; fi
  export TMPDIR="$4"
  shift 4
  exec sh -c "$*"' netns_rsh "$host" "$private" "${TMPDIR:-/tmp}/cairn-netns-$ID/private-$host" "$tmp" "$@"

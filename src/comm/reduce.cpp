// comm/reduce.cpp — canonical tree sums and the deterministic reduce-scatter (see reduce.h).
#include "comm/reduce.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/parallel.h"
#include "kernels/kernels.h"

namespace cairn {
namespace {

// Adds are element-wise (ops.add_inplace: a += b), so however a device splits the work
// the bits are those of the tree; only the tree fixes the order of the operands.
void tree_rec(int lo, int hi, int level, const std::vector<float*>& levels, int64_t n,
              const std::function<void(int, float*)>& leaf, const KernelOps& ops) {
  if (hi - lo == 1) {
    leaf(lo, levels[level]);
    return;
  }
  int mid = tree_mid(lo, hi);
  tree_rec(lo, mid, level, levels, n, leaf, ops);
  tree_rec(mid, hi, level + 1, levels, n, leaf, ops);
  ops.add_inplace(levels[level], levels[level + 1], n);
}

int tree_depth(int count) { return count <= 1 ? 0 : 1 + std::max(tree_depth(count / 2), tree_depth(count - count / 2)); }

// Finishes the canonical tree above split.nodes: slot i of `slots` (n floats each) holds
// node i's partial; the sum over [lo, hi) ends in the slot of its first node, which is
// returned. Every [lo, hi) visited is a node or a union of nodes (the nodes are canonical
// subtrees, and canonical subtrees nest), so its first node starts at lo.
int combine_nodes(const TreeSplit& split, const std::vector<int>& node_at, int lo, int hi, float* slots, int64_t n,
                  const KernelOps& ops) {
  const int first = node_at[size_t(lo)];
  if (split.nodes[size_t(first)].hi == hi) return first;
  const int mid = tree_mid(lo, hi);
  const int a = combine_nodes(split, node_at, lo, mid, slots, n, ops);
  const int b = combine_nodes(split, node_at, mid, hi, slots, n, ops);
  ops.add_inplace(slots + int64_t(a) * n, slots + int64_t(b) * n, n);
  return a;
}

}  // namespace

int tree_levels(int count) { return tree_depth(count) + 1; }

void tree_accumulate(int lo, int count, const std::vector<float*>& levels, int64_t n,
                     const std::function<void(int, float*)>& leaf, const KernelOps& ops) {
  CAIRN_CHECK(count >= 1, "tree_accumulate: empty block");
  CAIRN_CHECK(int(levels.size()) >= tree_levels(count), "tree_accumulate: need ", tree_levels(count),
              " level buffers, got ", levels.size());
  tree_rec(lo, lo + count, 0, levels, n, leaf, ops);
}

int64_t reduce_scatter_scratch_floats(int64_t total, const TreeSplit& split) {
  int64_t most = 0;
  for (int r = 0; r < split.world; ++r) most = std::max(most, owned_range(total, r, split.world).size());
  return int64_t(split.nodes.size()) * most;
}

int64_t reduce_scatter_scratch_floats(int64_t total, int world) {
  return reduce_scatter_scratch_floats(total, split_tree(world, world));
}

int64_t reduce_scatter_sent_floats(int64_t total, const TreeSplit& split, int rank) {
  return int64_t(split.parts(rank)) * (total - owned_range(total, rank, split.world).size());
}

void reduce_scatter_canonical(Comm& comm, const KernelOps& ops, const TreeSplit& split,
                              const std::vector<const float*>& partials, int64_t total, float* owned_out,
                              float* scratch) {
  const int W = comm.size(), me = comm.rank();
  CAIRN_CHECK(split.world == W, "reduce_scatter_canonical: split for ", split.world, " ranks on a comm of ", W);
  CAIRN_CHECK(int(partials.size()) == split.parts(me), "reduce_scatter_canonical: rank ", me, " has ",
              split.parts(me), " subtrees but ", partials.size(), " partials were given");
  const Range mine = owned_range(total, me, W);
  const int64_t n = mine.size();
  if (W == 1 && comm.skips_single_rank_collectives()) {  // one rank, one node: the root
    if (owned_out != partials[0] + mine.begin) ops.copy(owned_out, partials[0] + mine.begin, sizeof(float) * n);
    return;
  }
  // Round i: every rank that has an i-th partial sends its slice j to rank j; rank j places
  // the one from rank r in the slot of r's i-th node. Counts are zero, on both sides alike,
  // for a rank with fewer partials.
  std::vector<int64_t> send_counts(W), send_displs(W), recv_counts(W), recv_displs(W);
  for (int i = 0; i < split.max_parts(); ++i) {
    const bool sending = i < split.parts(me);
    for (int j = 0; j < W; ++j) {
      const Range rj = owned_range(total, j, W);
      send_counts[j] = sending ? rj.size() : 0;
      send_displs[j] = rj.begin;
      recv_counts[j] = i < split.parts(j) ? n : 0;
      recv_displs[j] = int64_t(split.first_node[j] + std::min(i, split.parts(j) - 1)) * n;
    }
    comm.alltoallv(partials[sending ? i : 0], send_counts, send_displs, scratch, recv_counts, recv_displs);
  }
  std::vector<int> node_at(size_t(split.grad_accum), -1);
  for (size_t i = 0; i < split.nodes.size(); ++i) node_at[size_t(split.nodes[i].lo)] = int(i);
  const int root = combine_nodes(split, node_at, 0, split.grad_accum, scratch, n, ops);
  CAIRN_CHECK(root == 0, "reduce_scatter_canonical: the root sum is not in the first slot");
  if (owned_out != scratch) ops.copy(owned_out, scratch, sizeof(float) * n);
}

void reduce_scatter_canonical(Comm& comm, const KernelOps& ops, const float* block_sum, int64_t total,
                              float* owned_out, float* scratch) {
  reduce_scatter_canonical(comm, ops, split_tree(comm.size(), comm.size()), {block_sum}, total, owned_out, scratch);
}

void reduce_scatter_canonical(Comm& comm, const float* block_sum, int64_t total, float* owned_out,
                              std::vector<float>& scratch) {
  scratch.resize(size_t(reduce_scatter_scratch_floats(total, comm.size())));
  reduce_scatter_canonical(comm, cpu_ops(), block_sum, total, owned_out, scratch.data());
}

std::string describe_exchange(const TreeSplit& split, int64_t total) {
  const int W = split.world;
  if (W == 1) return str("gradient exchange: one rank, no reduce-scatter (", split.grad_accum, " micro-batches)");
  int least_block = split.grad_accum, most_block = 0, least = split.max_parts(), most = split.max_parts();
  int64_t sent = 0, sent_one = 0;  // the busiest rank's floats, and what one partial each would send
  for (int r = 0; r < W; ++r) {
    least_block = std::min(least_block, split.block_size(r));
    most_block = std::max(most_block, split.block_size(r));
    least = std::min(least, split.parts(r));
    if (reduce_scatter_sent_floats(total, split, r) > sent) {
      sent = reduce_scatter_sent_floats(total, split, r);
      sent_one = sent / split.parts(r);
    }
  }
  auto mb = [](int64_t floats) {
    char buf[32];
    const double v = double(floats) * 4.0 / 1e6;
    std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f MB" : v >= 1 ? "%.1f MB" : "%.3f MB", v);
    return std::string(buf);
  };
  std::string blocks = least_block == most_block ? str(most_block) : str(least_block, "-", most_block);
  if (split.one_part_per_rank())
    return str("gradient exchange: ", W, " ranks x ", blocks, " micro-batches, one partial sum per rank (as at a "
               "power-of-two world size): ", mb(sent), " sent per rank per step");
  return str("gradient exchange: ", W, " ranks x ", blocks, " micro-batches, ",
             least == most ? str(most) : str(least, "-", most), " partial sums per rank (",
             split.nodes.size(), " canonical subtrees in all): the busiest rank sends ", mb(sent),
             " per step, ", double(sent) / double(sent_one), "x the bytes of one partial per rank (the "
             "power-of-two case), and keeps ", most, " partial buffers");
}
void allgather_owned(Comm& comm, float* full, int64_t total) {
  const int W = comm.size();
  if (W == 1 && comm.skips_single_rank_collectives()) return;
  std::vector<int64_t> counts(W), displs(W);
  for (int j = 0; j < W; ++j) {
    Range rj = owned_range(total, j, W);
    counts[j] = rj.size();
    displs[j] = rj.begin;
  }
  comm.allgatherv(full + displs[comm.rank()], full, counts, displs);
}

double tree_sum_over_ranks(Comm& comm, double mine) {
  std::vector<double> all(comm.size());
  if (comm.size() == 1) return mine;
  comm.allgather(&mine, all.data(), sizeof(double));
  return tree_sum(all.data(), 0, comm.size());
}

double tree_sum_over_blocks(Comm& comm, const TreeSplit& split, const double* block_values) {
  const int me = comm.rank(), G = split.grad_accum;
  CAIRN_CHECK(split.world == comm.size(), "tree_sum_over_blocks: split for ", split.world, " ranks on a comm of ",
              comm.size());
  std::vector<double> all(static_cast<size_t>(G));
  std::vector<int64_t> counts(static_cast<size_t>(split.world)), displs(static_cast<size_t>(split.world));
  for (int r = 0; r < split.world; ++r) {
    counts[size_t(r)] = int64_t(split.block_size(r)) * int64_t(sizeof(double));
    displs[size_t(r)] = int64_t(split.block_begin[r]) * int64_t(sizeof(double));
  }
  std::copy(block_values, block_values + split.block_size(me), all.begin() + split.block_begin[me]);
  comm.allgatherv_bytes(all.data() + split.block_begin[me], all.data(), counts, displs);
  return tree_sum(all.data(), 0, G);
}

}  // namespace cairn

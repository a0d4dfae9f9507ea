// comm/reduce.cpp — canonical tree sums and the deterministic reduce-scatter (see reduce.h).
#include "comm/reduce.h"

#include <algorithm>
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

// Sums the W partials stored back to back in `parts` (each n floats) into parts[0].
void tree_combine(float* parts, int lo, int hi, int64_t n, const KernelOps& ops) {
  if (hi - lo == 1) return;
  int mid = tree_mid(lo, hi);
  tree_combine(parts, lo, mid, n, ops);
  tree_combine(parts, mid, hi, n, ops);
  ops.add_inplace(parts + int64_t(lo) * n, parts + int64_t(mid) * n, n);
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

int64_t reduce_scatter_scratch_floats(int64_t total, int world) {
  int64_t most = 0;
  for (int r = 0; r < world; ++r) most = std::max(most, owned_range(total, r, world).size());
  return int64_t(world) * most;
}

void reduce_scatter_canonical(Comm& comm, const KernelOps& ops, const float* block_sum, int64_t total,
                              float* owned_out, float* scratch) {
  const int W = comm.size(), r = comm.rank();
  const Range mine = owned_range(total, r, W);
  const int64_t n = mine.size();
  if (W == 1) {
    ops.copy(owned_out, block_sum + mine.begin, sizeof(float) * n);
    return;
  }
  std::vector<int64_t> send_counts(W), send_displs(W), recv_counts(W), recv_displs(W);
  for (int j = 0; j < W; ++j) {
    Range rj = owned_range(total, j, W);
    send_counts[j] = rj.size();
    send_displs[j] = rj.begin;
    recv_counts[j] = n;
    recv_displs[j] = int64_t(j) * n;
  }
  comm.alltoallv(block_sum, send_counts, send_displs, scratch, recv_counts, recv_displs);
  tree_combine(scratch, 0, W, n, ops);
  ops.copy(owned_out, scratch, sizeof(float) * n);
}

void reduce_scatter_canonical(Comm& comm, const float* block_sum, int64_t total, float* owned_out,
                              std::vector<float>& scratch) {
  scratch.resize(size_t(reduce_scatter_scratch_floats(total, comm.size())));
  reduce_scatter_canonical(comm, cpu_ops(), block_sum, total, owned_out, scratch.data());
}

void allgather_owned(Comm& comm, float* full, int64_t total) {
  const int W = comm.size();
  if (W == 1) return;
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

}  // namespace cairn

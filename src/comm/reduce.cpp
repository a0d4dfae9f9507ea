// comm/reduce.cpp — canonical tree sums and the deterministic reduce-scatter (see reduce.h).
#include "comm/reduce.h"

#include <cstring>

#include "core/error.h"
#include "core/parallel.h"
#include "kernels/kernels.h"

namespace cairn {
namespace {

// a += b over n floats, in parallel tiles (elementwise, so any split gives the same bits).
void add_tiles(float* a, const float* b, int64_t n) {
  constexpr int64_t kTile = 1 << 16;
  parallel_for(ceil_div(n, kTile), [&](int64_t t) {
    int64_t begin = t * kTile, end = std::min(n, begin + kTile);
    cpu::add_inplace(a + begin, b + begin, end - begin);
  });
}

void tree_rec(int lo, int hi, int level, const std::vector<float*>& levels, int64_t n,
              const std::function<void(int, float*)>& leaf) {
  if (hi - lo == 1) {
    leaf(lo, levels[level]);
    return;
  }
  int mid = tree_mid(lo, hi);
  tree_rec(lo, mid, level, levels, n, leaf);
  tree_rec(mid, hi, level + 1, levels, n, leaf);
  add_tiles(levels[level], levels[level + 1], n);
}

int tree_depth(int count) { return count <= 1 ? 0 : 1 + std::max(tree_depth(count / 2), tree_depth(count - count / 2)); }

// Sums the W partials stored back to back in `parts` (each n floats) into parts[0].
void tree_combine(float* parts, int lo, int hi, int64_t n) {
  if (hi - lo == 1) return;
  int mid = tree_mid(lo, hi);
  tree_combine(parts, lo, mid, n);
  tree_combine(parts, mid, hi, n);
  add_tiles(parts + int64_t(lo) * n, parts + int64_t(mid) * n, n);
}

}  // namespace

int tree_levels(int count) { return tree_depth(count) + 1; }

void tree_accumulate(int lo, int count, const std::vector<float*>& levels, int64_t n,
                     const std::function<void(int, float*)>& leaf) {
  CAIRN_CHECK(count >= 1, "tree_accumulate: empty block");
  CAIRN_CHECK(int(levels.size()) >= tree_levels(count), "tree_accumulate: need ", tree_levels(count),
              " level buffers, got ", levels.size());
  tree_rec(lo, lo + count, 0, levels, n, leaf);
}

void reduce_scatter_canonical(Comm& comm, const float* block_sum, int64_t total, float* owned_out,
                              std::vector<float>& scratch) {
  const int W = comm.size(), r = comm.rank();
  const Range mine = owned_range(total, r, W);
  const int64_t n = mine.size();
  if (W == 1) {
    std::memcpy(owned_out, block_sum + mine.begin, sizeof(float) * n);
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
  scratch.resize(size_t(W) * size_t(n));
  comm.alltoallv(block_sum, send_counts, send_displs, scratch.data(), recv_counts, recv_displs);
  tree_combine(scratch.data(), 0, W, n);
  std::memcpy(owned_out, scratch.data(), sizeof(float) * n);
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

// The canonical tree: tree_accumulate equals the explicit recursion, and a block of a
// power-of-two split is a node of the tree (the property W-invariance rests on).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "comm/reduce.h"

namespace cairn {
namespace {

// Reference: recursive halving with values materialised.
std::vector<float> reference_tree(const std::vector<std::vector<float>>& leaves, int lo, int hi) {
  if (hi - lo == 1) return leaves[lo];
  int mid = tree_mid(lo, hi);
  auto a = reference_tree(leaves, lo, mid), b = reference_tree(leaves, mid, hi);
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

std::vector<std::vector<float>> random_leaves(int count, int n) {
  std::mt19937 rng(count);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<std::vector<float>> leaves(count, std::vector<float>(n));
  for (auto& l : leaves)
    for (auto& x : l) x = u(rng) * std::exp2(float(int(rng() % 20) - 10));
  return leaves;
}

TEST(CanonicalTree, AccumulateMatchesRecursion) {
  const int n = 1000;
  for (int count : {1, 2, 3, 5, 8, 12, 13}) {
    auto leaves = random_leaves(count, n);
    std::vector<std::vector<float>> bufs(tree_levels(count), std::vector<float>(n, 99.0f));
    std::vector<float*> levels;
    for (auto& b : bufs) levels.push_back(b.data());
    std::vector<int> order;
    tree_accumulate(0, count, levels, n, [&](int k, float* out) {
      order.push_back(k);
      std::memcpy(out, leaves[k].data(), sizeof(float) * n);
    });
    auto want = reference_tree(leaves, 0, count);
    EXPECT_EQ(0, std::memcmp(bufs[0].data(), want.data(), sizeof(float) * n)) << "count " << count;
    for (int k = 0; k < count; ++k) EXPECT_EQ(order[k], k) << "leaves must be visited in order";
  }
}

// Splitting [0, G) into W equal blocks, summing each block with the tree and then the W
// block sums with the tree over rank index, gives the bits of the tree over [0, G).
TEST(CanonicalTree, PowerOfTwoBlocksAreTreeNodes) {
  const int n = 257;
  for (int G : {4, 8, 12, 24}) {
    auto leaves = random_leaves(G, n);
    auto whole = reference_tree(leaves, 0, G);
    for (int W = 1; W <= G; W *= 2) {
      if (G % W) continue;
      std::vector<std::vector<float>> partials;
      for (int r = 0; r < W; ++r) partials.push_back(reference_tree(leaves, r * G / W, (r + 1) * G / W));
      auto combined = reference_tree(partials, 0, W);
      EXPECT_EQ(0, std::memcmp(combined.data(), whole.data(), sizeof(float) * n)) << "G " << G << " W " << W;
    }
  }
}

TEST(CanonicalTree, ScalarTreeSum) {
  std::vector<double> v{1e16, 1.0, -1e16, 1.0};
  // ((1e16 + 1) + (-1e16 + 1)) in the tree: each pair rounds, then the sum.
  EXPECT_EQ(tree_sum(v.data(), 0, 4), (1e16 + 1.0) + (-1e16 + 1.0));
}

TEST(Sharding, OwnedRangesAreChunkAlignedAndCover) {
  const int64_t total = 37 * kChunkFloats;
  for (int W : {1, 2, 4, 8, 16}) {
    int64_t pos = 0;
    for (int r = 0; r < W; ++r) {
      Range rr = owned_range(total, r, W);
      EXPECT_EQ(rr.begin, pos);
      EXPECT_EQ(rr.begin % kChunkFloats, 0);
      pos = rr.end;
    }
    EXPECT_EQ(pos, total);
  }
}

TEST(LocalComm, ReduceScatterIsIdentity) {
  auto comm = make_local_comm();
  std::vector<float> block(2 * kChunkFloats), out(2 * kChunkFloats), scratch;
  for (size_t i = 0; i < block.size(); ++i) block[i] = float(i) * 0.5f;
  reduce_scatter_canonical(*comm, block.data(), int64_t(block.size()), out.data(), scratch);
  EXPECT_EQ(block, out);
  EXPECT_EQ(tree_sum_over_ranks(*comm, 2.5), 2.5);
}

}  // namespace
}  // namespace cairn

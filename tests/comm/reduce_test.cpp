// The canonical tree and the production reduction across simulated ranks: for any W <= G,
// tree_accumulate over each rank's maximal subtrees, then reduce_scatter_canonical over W
// ranks (threads, tests/thread_comm.h), gives every owner the bits of the whole-batch tree
// (the property world-size invariance rests on); the losses' tree_sum_over_blocks likewise.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <map>
#include <utility>

#include "comm/reduce.h"
#include "core/error.h"
#include "thread_comm.h"

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

// Magnitudes over 2^-10..2^9, so that summing in another order changes bits.
std::vector<std::vector<float>> random_leaves(int count, int64_t n) {
  std::mt19937 rng(count);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<std::vector<float>> leaves(count, std::vector<float>(size_t(n)));
  for (auto& l : leaves)
    for (auto& x : l) x = u(rng) * std::exp2(float(int(rng() % 20) - 10));
  return leaves;
}

// Every node of the tree over [lo, hi), mapped to its parent (the root to itself).
void collect_nodes(int lo, int hi, std::pair<int, int> parent, std::map<std::pair<int, int>, std::pair<int, int>>& out) {
  out[{lo, hi}] = parent;
  if (hi - lo == 1) return;
  collect_nodes(lo, tree_mid(lo, hi), {lo, hi}, out);
  collect_nodes(tree_mid(lo, hi), hi, {lo, hi}, out);
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

// Blocks as equal as possible (the first G mod W one larger); each rank's subtrees are nodes
// of the tree over [0, G), inside its block, maximal (the parent is not inside), and together
// they partition [0, G). One per rank when W is a power of two dividing G.
TEST(TreeSplit, BlocksAreEvenAndSubtreesMaximal) {
  for (int G = 1; G <= 40; ++G) {
    std::map<std::pair<int, int>, std::pair<int, int>> parent;
    collect_nodes(0, G, {0, G}, parent);
    for (int W = 1; W <= G; ++W) {
      const TreeSplit s = split_tree(G, W);
      int covered = 0;
      for (int r = 0; r < W; ++r) {
        EXPECT_EQ(s.block_size(r), G / W + (r < G % W ? 1 : 0)) << "G " << G << " W " << W << " rank " << r;
        for (int i = s.first_node[r]; i < s.first_node[r + 1]; ++i) {
          const TreeNode nd = s.nodes[size_t(i)];
          EXPECT_EQ(nd.lo, covered) << "G " << G << " W " << W;
          covered = nd.hi;
          ASSERT_TRUE(parent.count({nd.lo, nd.hi})) << "[" << nd.lo << "," << nd.hi << ") is not a tree node";
          EXPECT_TRUE(s.block_begin[r] <= nd.lo && nd.hi <= s.block_begin[r + 1]);
          const auto up = parent[{nd.lo, nd.hi}];
          if (nd.size() < G)
            EXPECT_FALSE(s.block_begin[r] <= up.first && up.second <= s.block_begin[r + 1])
                << "G " << G << " W " << W << ": [" << nd.lo << "," << nd.hi << ") is not maximal";
        }
        EXPECT_EQ(covered, s.block_begin[r + 1]);
      }
      EXPECT_EQ(covered, G);
      if ((W & (W - 1)) == 0 && G % W == 0) EXPECT_TRUE(s.one_part_per_rank()) << "G " << G << " W " << W;
    }
  }
  const TreeSplit s = split_tree(24, 5);  // the picture in docs/determinism.md
  std::vector<std::pair<int, int>> got;
  for (const TreeNode& nd : s.nodes) got.push_back({nd.lo, nd.hi});
  const std::vector<std::pair<int, int>> want{{0, 3},   {3, 4},   {4, 5},   {5, 6},   {6, 9},   {9, 10}, {10, 12},
                                              {12, 15}, {15, 18}, {18, 19}, {19, 20}, {20, 21}, {21, 24}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(s.max_parts(), 3);
}

TEST(TreeSplit, MoreRanksThanMicroBatchesIsRefusedWithTheRule) {
  try {
    split_tree(4, 5);
    ADD_FAILURE() << "split_tree(4, 5) did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot train on 5 ranks with train.grad_accum = 4: every rank needs at "
                                         "least one micro-batch, so the world size must be at most grad_accum"),
              std::string::npos)
        << e.what();
  }
}

// A ThreadComm that counts the floats this rank sends to others and the all-to-all calls.
class CountingComm final : public test::ThreadComm {
 public:
  using ThreadComm::ThreadComm;
  void alltoallv(const float* s, const std::vector<int64_t>& sc, const std::vector<int64_t>& sd, float* r,
                 const std::vector<int64_t>& rc, const std::vector<int64_t>& rd) override {
    ++calls;
    for (int j = 0; j < size(); ++j)
      if (j != rank()) sent += sc[size_t(j)];
    ThreadComm::alltoallv(s, sc, sd, r, rc, rd);
  }
  int calls = 0;
  int64_t sent = 0;
};

// The production path, rank by rank, as the trainer runs it: leaves are micro-batch
// gradients (and losses); each simulated rank sums its subtrees with tree_accumulate, then
// reduce_scatter_canonical and tree_sum_over_blocks run across the W threads. Every owned
// slice must equal the whole-batch tree bit for bit, for powers of two and all other W <= G.
// 5 chunks: for W > 5 some ranks own nothing, which must work too.
TEST(ReduceScatterCanonical, AnyWorldSizeGivesTheBitsOfTheWholeBatchTree) {
  const int64_t total = 5 * kChunkFloats;
  for (int G : {1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 24}) {
    const auto leaves = random_leaves(G, total);
    const auto whole = reference_tree(leaves, 0, G);
    std::vector<double> leaf_losses(static_cast<size_t>(G));
    for (int k = 0; k < G; ++k) leaf_losses[size_t(k)] = double(leaves[size_t(k)][7]) * 1e-3 + 1e-9 * k;
    const double want_loss = tree_sum(leaf_losses.data(), 0, G);
    for (int W = 1; W <= G; ++W) {
      const TreeSplit split = split_tree(G, W);
      std::vector<std::vector<float>> owned(static_cast<size_t>(W));
      std::vector<double> loss(static_cast<size_t>(W));
      std::vector<int> calls(static_cast<size_t>(W));
      std::vector<int64_t> sent(static_cast<size_t>(W));
      test::ThreadGroup group(W);
      std::vector<std::thread> threads;
      for (int rank = 0; rank < W; ++rank) {
        threads.emplace_back([&, rank] {
          CountingComm comm(group, rank);
          std::vector<std::vector<float>> partials, levels_bufs;
          std::vector<const float*> parts;
          for (int i = split.first_node[rank]; i < split.first_node[rank + 1]; ++i) {
            const TreeNode nd = split.nodes[size_t(i)];
            partials.emplace_back(size_t(total), -1.0f);
            levels_bufs.assign(size_t(tree_levels(nd.size())), std::vector<float>(size_t(total), 7.0f));
            std::vector<float*> levels{partials.back().data()};
            for (size_t l = 1; l < levels_bufs.size(); ++l) levels.push_back(levels_bufs[l].data());
            tree_accumulate(nd.lo, nd.size(), levels, total, [&](int k, float* out) {
              std::memcpy(out, leaves[size_t(k)].data(), sizeof(float) * size_t(total));
            });
          }
          for (const auto& p : partials) parts.push_back(p.data());
          std::vector<float> scratch(size_t(reduce_scatter_scratch_floats(total, split)), 3.0f);
          const Range mine = owned_range(total, rank, W);
          owned[size_t(rank)].assign(size_t(mine.size()), -5.0f);
          reduce_scatter_canonical(comm, cpu_ops(), split, parts, total, owned[size_t(rank)].data(), scratch.data());
          loss[size_t(rank)] =
              tree_sum_over_blocks(comm, split, leaf_losses.data() + split.block_begin[rank]);
          calls[size_t(rank)] = comm.calls;
          sent[size_t(rank)] = comm.sent;
        });
      }
      for (auto& t : threads) t.join();
      for (int rank = 0; rank < W; ++rank) {
        const Range mine = owned_range(total, rank, W);
        // An empty owned slice has no data() to compare (memcmp on null is undefined even for 0 bytes).
        const std::vector<float> want(whole.begin() + mine.begin, whole.begin() + mine.end);
        EXPECT_TRUE(owned[size_t(rank)] == want)
            << "G " << G << " W " << W << " rank " << rank << ": owned slice differs from the whole-batch tree";
        EXPECT_EQ(loss[size_t(rank)], want_loss) << "G " << G << " W " << W << " rank " << rank;
        // One round per partial; at a power of two dividing G exactly one, with the bytes of a
        // plain reduce-scatter (every slice but the own one, once).
        if (W > 1) EXPECT_EQ(calls[size_t(rank)], split.max_parts()) << "G " << G << " W " << W;
        EXPECT_EQ(sent[size_t(rank)], W > 1 ? reduce_scatter_sent_floats(total, split, rank) : 0);
        if (split.one_part_per_rank()) EXPECT_EQ(sent[size_t(rank)], W > 1 ? total - mine.size() : 0);
      }
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
  for (int W : {1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24}) {
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

// tests/comm/reduce_ops_test.cpp — the canonical reductions are one algorithm for every device:
// the arithmetic goes through the KernelOps table it is given (cuda_ops() on the GPU), the
// data movement through the Comm (NCCL on the GPU). Checked on the CPU with a table that
// records its calls: every add and copy of tree_accumulate / reduce_scatter_canonical goes
// through the table, in the canonical tree's order, and the result equals the cpu_ops() one.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "comm/comm.h"
#include "comm/reduce.h"

namespace cairn {
namespace {

struct Call {
  const float* a;
  const float* b;
};
std::vector<Call> g_adds;
int g_copies = 0;

void recording_add(float* a, const float* b, int64_t n) {
  g_adds.push_back({a, b});
  cpu_ops().add_inplace(a, b, n);
}
void recording_copy(void* dst, const void* src, size_t bytes) {
  ++g_copies;
  cpu_ops().copy(dst, src, bytes);
}

KernelOps recording_ops() {
  KernelOps ops = cpu_ops();
  ops.device = "recording";
  ops.add_inplace = recording_add;
  ops.copy = recording_copy;
  return ops;
}

TEST(ReduceOnAnyDevice, TreeAddsGoThroughTheTableInTreeOrder) {
  const int count = 5;
  const int64_t n = 301;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<std::vector<float>> leaves(count, std::vector<float>(n));
  for (auto& l : leaves)
    for (auto& x : l) x = u(rng);

  // Runs the tree into bufs (one buffer per level) through `ops`.
  auto run = [&](const KernelOps& ops, std::vector<std::vector<float>>& bufs, std::vector<float*>& levels) {
    bufs.assign(tree_levels(count), std::vector<float>(n));
    levels.clear();
    for (auto& b : bufs) levels.push_back(b.data());
    tree_accumulate(0, count, levels, n, [&](int k, float* out) { std::memcpy(out, leaves[k].data(), 4 * n); }, ops);
  };
  std::vector<std::vector<float>> want_bufs, bufs;
  std::vector<float*> want_levels, levels;
  run(cpu_ops(), want_bufs, want_levels);
  g_adds.clear();
  const KernelOps ops = recording_ops();
  run(ops, bufs, levels);
  const std::vector<float>& got = bufs[0];
  const std::vector<float>& want = want_bufs[0];
  EXPECT_EQ(0, std::memcmp(got.data(), want.data(), 4 * n));
  // [0,5) -> [0,2) + [2,5); [2,5) -> [2,3) + [3,5): four adds, innermost first, each into the
  // lower level from the next one.
  ASSERT_EQ(g_adds.size(), 4u);
  for (const Call& c : g_adds) {
    bool adjacent = false;
    for (size_t l = 0; l + 1 < levels.size(); ++l) adjacent |= c.a == levels[l] && c.b == levels[l + 1];
    EXPECT_TRUE(adjacent) << "an add not between adjacent tree levels";
  }
  EXPECT_EQ(g_adds.back().a, levels[0]) << "the last add is the root's";
}

TEST(ReduceOnAnyDevice, ReduceScatterUsesTheTableForItsCopies) {
  std::unique_ptr<Comm> comm = make_local_comm();
  const int64_t total = 3 * kChunkFloats;
  std::vector<float> block(total), owned(total), scratch(reduce_scatter_scratch_floats(total, 1));
  for (int64_t i = 0; i < total; ++i) block[i] = float(i % 97) * 0.25f;
  g_copies = 0;
  const KernelOps ops = recording_ops();
  reduce_scatter_canonical(*comm, ops, block.data(), total, owned.data(), scratch.data());
  EXPECT_GE(g_copies, 1);
  EXPECT_EQ(owned, block);  // one rank owns everything
}

}  // namespace
}  // namespace cairn

// tests/cuda/test_cuda_optimizer.cpp — the device-resident pieces of a training step on the
// GPU, against the same code on the CPU (the one code path of optim/adamw.h,
// checkpoint/snapshot.h and comm/reduce.h, with cuda_ops() instead of cpu_ops()):
//   - AdamW over an owned slice with decay and frozen ranges: moments allocated on the GPU,
//     the update through cuda_ops().adamw_update (tolerance of the adamw kernel test);
//   - the gradient norm: sumsq_chunks on the GPU, bitwise the CPU's;
//   - snapshots: cudaMemcpyAsync into pinned staging on the side stream, ordered after the
//     kernels already queued; an AsyncSaver over GPU slices writes the shards a host save of
//     the same floats writes;
//   - NCCL at world size 1 (what a one-GPU run uses): votes, the reduce-scatter and the
//     all-gather on device buffers, ordered after queued kernels.
// Skipped (visibly) without a GPU or a CUDA build; the NCCL tests also without NCCL.
#include <cstring>

#include "../checkpoint/ckpt_test_util.h"
#include "../kernels/kernel_test_util.h"
#include "checkpoint/async_save.h"
#include "checkpoint/snapshot.h"
#include "comm/collective_wait.h"
#include "comm/nccl/nccl_comm.h"
#include "comm/reduce.h"
#include "cuda_test_util.h"
#include "optim/adamw.h"

namespace cairn::test {
namespace {

class CudaOptimizer : public CudaTest {};

TEST_F(CudaOptimizer, AdamWStepOnTheGpuMatchesTheCpu) {
  const int64_t total = 7 * kChunkFloats;
  const auto p0 = random_floats(total, 21), g = random_floats(total, 22, -0.1f, 0.1f);
  const std::vector<optim::DecayRange> decay{{100, 5000}, {9000, 20000}};
  const std::vector<Range> frozen{{4000, 4500}, {15000, 17001}};
  const optim::AdamWConfig cfg{0.9f, 0.95f, 1e-8f, 0.1f};
  const Range owned = owned_range(total, 1, 2);
  std::vector<float> host_p = p0, host_g(g.begin() + owned.begin, g.begin() + owned.end);
  optim::AdamW host(cfg, decay, owned);
  host.freeze(frozen);
  host.zero_frozen(host_g.data());
  auto dev_p = to_device(p0);
  auto dev_g = to_device(std::vector<float>(g.begin() + owned.begin, g.begin() + owned.end));
  optim::AdamW dev(cfg, decay, owned, gpu());
  dev.freeze(frozen);
  dev.zero_frozen(dev_g.data());
  for (int t = 1; t <= 3; ++t) {
    host.step(host_p.data(), host_g.data(), 1e-2f, t, 0.7f);
    dev.step(dev_p.data(), dev_g.data(), 1e-2f, t, 0.7f);
  }
  std::vector<float> m(owned.size()), v(owned.size());
  gpu().download(m.data(), dev.m(), sizeof(float) * m.size());
  gpu().download(v.data(), dev.v(), sizeof(float) * v.size());
  expect_matches_cpu(to_host(dev_p), host_p, kFp32Forward, kFp32RelL2Forward, "params");
  expect_matches_cpu(m, std::vector<float>(host.m(), host.m() + owned.size()), kFp32Forward, kFp32RelL2Forward, "m");
  expect_matches_cpu(v, std::vector<float>(host.v(), host.v() + owned.size()), kFp32Forward, kFp32RelL2Forward, "v");
  const std::vector<float> got_p = to_host(dev_p);
  for (int64_t i = 15000; i < 17001; ++i) ASSERT_EQ(got_p[size_t(i)], p0[size_t(i)]) << "frozen " << i;
}

TEST_F(CudaOptimizer, GradNormOnTheGpuIsBitwiseTheCpus) {
  auto comm = make_local_comm();
  const int64_t total = 5 * kChunkFloats;
  const auto g = random_floats(total, 23);
  const double want = optim::global_grad_norm(*comm, g.data(), {0, total}, total);
  auto dev_g = to_device(g);
  DeviceBuffer<double> sums;
  const double got = optim::global_grad_norm(*comm, gpu(), dev_g.data(), {0, total}, total, sums);
  EXPECT_EQ(0, std::memcmp(&got, &want, sizeof got)) << got << " vs " << want;
}

// The snapshot copy starts after the kernels already queued: it sees their result.
TEST_F(CudaOptimizer, SnapshotIsOrderedAfterQueuedKernels) {
  const int64_t n = 1 << 22;  // 16 MB: long enough for a missing dependency to show
  const auto a = random_floats(n, 24), b = random_floats(n, 25);
  std::vector<float> want = a;
  for (int64_t i = 0; i < n; ++i) want[size_t(i)] += b[size_t(i)];
  auto d_a = to_device(a), d_b = to_device(b);
  ckpt::SnapshotStaging staging(gpu());
  for (int repeat = 0; repeat < 2; ++repeat) {
    gpu().add_inplace(d_a.data(), d_b.data(), n);  // queued, not waited for
    std::vector<ckpt::OwnedSlice> staged = staging.copy({{"params", d_a.data(), 0, n}});
    staging.wait();
    ASSERT_TRUE(bitwise_equal(std::vector<float>(staged[0].data, staged[0].data + n), want)) << "repeat " << repeat;
    for (int64_t i = 0; i < n; ++i) want[size_t(i)] += b[size_t(i)];
  }
}

TEST_F(CudaOptimizer, AsyncSaveFromTheGpuMatchesAHostSave) {
  ckpt::test::TempDir host_run, dev_run;
  ckpt::test::TestModel m;
  auto comm = make_local_comm();
  ckpt::SaveStats want = ckpt::save_checkpoint(*comm, host_run.path, 5, m.layout, m.slices(0, 1),
                                               ckpt::test::TestModel::state(5), ckpt::test::keep(2));
  ASSERT_TRUE(want.ok) << want.error;
  std::vector<DeviceBuffer<float>> bufs;
  std::vector<ckpt::OwnedSlice> live;
  for (const ckpt::OwnedSlice& s : m.slices(0, 1)) {
    bufs.push_back(to_device(std::vector<float>(s.data, s.data + (s.end - s.begin))));
    live.push_back({s.buffer, bufs.back().data(), s.begin, s.end});
  }
  ckpt::AsyncSaver saver(gpu());
  ASSERT_EQ(saver.start(*comm, dev_run.path, 5, m.layout, live, ckpt::test::TestModel::state(5), ckpt::test::keep(2)),
            "");
  saver.wait_snapshot();
  gpu().zero(bufs[0].data(), bufs[0].bytes());  // the next update, after the snapshot
  std::optional<ckpt::SaveResult> r = saver.finish(*comm);
  ASSERT_TRUE(r && r->commit.ok);
  EXPECT_EQ(r->commit.logical_hash, want.logical_hash);
  const std::string shard = "/checkpoints/step_00000005/" + ckpt::shard_file_name(0, 1);
  EXPECT_EQ(ckpt::test::read_text(dev_run.path + shard), ckpt::test::read_text(host_run.path + shard));
}

class CudaNccl : public CudaTest {
 protected:
  void SetUp() override {
    CudaTest::SetUp();
    if (IsSkipped()) return;
    if (!nccl_is_available()) GTEST_SKIP() << "NCCL test skipped: this cairn was built without NCCL";
    host_ = make_local_comm();
    nccl_ = make_nccl_comm(*host_, kDefaultCommTimeoutSeconds);
  }
  std::unique_ptr<Comm> host_, nccl_;
};

TEST_F(CudaNccl, OneRankVotesAndCollectives) {
  EXPECT_EQ(nccl_->size(), 1);
  EXPECT_EQ(nccl_->backend(), "nccl");
  EXPECT_EQ(nccl_->max_int(41), 41);
  EXPECT_EQ(nccl_->min_int(-3), -3);
  EXPECT_TRUE(nccl_->all_agree(true));
  EXPECT_FALSE(nccl_->any(false));
  nccl_->barrier();

  const int64_t n = 1 << 20;
  const auto a = random_floats(n, 26), b = random_floats(n, 27);
  std::vector<float> want = a;
  for (int64_t i = 0; i < n; ++i) want[size_t(i)] += b[size_t(i)];
  auto d_a = to_device(a), d_b = to_device(b);
  auto d_out = poisoned(size_t(n));
  gpu().add_inplace(d_a.data(), d_b.data(), n);  // queued: the collective must wait for it
  nccl_->alltoallv(d_a.data(), {n}, {0}, d_out.data(), {n}, {0});
  EXPECT_TRUE(bitwise_equal(to_host(d_out), want)) << "alltoallv";
  auto d_g = poisoned(size_t(n));
  nccl_->allgatherv(d_out.data(), d_g.data(), {n}, {0});
  EXPECT_TRUE(bitwise_equal(to_host(d_g), want)) << "allgatherv";
}

// What a one-GPU training step does with the data comm: the canonical reduce-scatter (over
// NCCL at one rank too: grouped send/recv to itself into the scratch) and the parameter
// all-gather (in-place ncclAllGather), on device buffers.
TEST_F(CudaNccl, ReduceScatterAndAllgatherOverNccl) {
  ASSERT_FALSE(nccl_->skips_single_rank_collectives());
  const int64_t total = 3 * kChunkFloats;
  const auto block = random_floats(total, 28);
  auto d_block = to_device(block);
  auto d_owned = poisoned(size_t(total));
  auto d_scratch = poisoned(size_t(reduce_scatter_scratch_floats(total, 1)));
  reduce_scatter_canonical(*nccl_, gpu(), d_block.data(), total, d_owned.data(), d_scratch.data());
  EXPECT_TRUE(bitwise_equal(to_host(d_owned), block));
  allgather_owned(*nccl_, d_owned.data(), total);
  EXPECT_TRUE(bitwise_equal(to_host(d_owned), block));
}

}  // namespace
}  // namespace cairn::test

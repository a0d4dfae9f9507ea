// tests/train/step_ops_test.cpp — the optimizer half of a training step (trainer.cpp,
// train_step 2-3) is one code path for every device: the canonical reduce-scatter of the
// block sums, train.freeze, the gradient norm, clipping, AdamW on the owned slice and the
// parameter all-gather, with the buffers on the device of a KernelOps and the device
// buffers moved by a data Comm. Run here with W ranks as threads, on the host (cpu_ops(),
// the host Comm) and on the shadow device (tests/shadow_device.h: memory the host cannot
// dereference) with a stand-in for NCCL that moves shadow buffers: for W = 1..6 at G = 6
// the parameters, m, v and gradient norms are bitwise equal between the two and to W = 1's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "../checkpoint/ckpt_test_util.h"
#include "comm/reduce.h"
#include "optim/adamw.h"
#include "shadow_device.h"

namespace cairn {
namespace {

using test::shadow::real;

// The NCCL stand-in: the data collectives take shadow (device) pointers and move them over a
// host Comm; votes go straight through. Like NCCL, it moves data at one rank too.
class ShadowDataComm final : public Comm {
 public:
  explicit ShadowDataComm(Comm& host) : host_(host) {}
  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  std::string backend() const override { return "shadow-nccl"; }
  bool skips_single_rank_collectives() const override { return false; }
  void barrier() override { host_.barrier(); }
  void broadcast(void* d, size_t b, int root) override { host_.broadcast(real(d), b, root); }
  void allgather(const void* s, void* r, size_t b) override { host_.allgather(real(s), real(r), b); }
  void allgatherv(const float* s, float* r, const std::vector<int64_t>& c, const std::vector<int64_t>& d) override {
    host_.allgatherv(real(s), real(r), c, d);
  }
  void allgatherv_bytes(const void* s, void* r, const std::vector<int64_t>& c,
                        const std::vector<int64_t>& d) override {
    host_.allgatherv_bytes(real(s), real(r), c, d);
  }
  void alltoallv(const float* s, const std::vector<int64_t>& sc, const std::vector<int64_t>& sd, float* r,
                 const std::vector<int64_t>& rc, const std::vector<int64_t>& rd) override {
    host_.alltoallv(real(s), sc, sd, real(r), rc, rd);
  }
  int64_t max_int(int64_t v) override { return host_.max_int(v); }
  int64_t min_int(int64_t v) override { return host_.min_int(v); }
  [[noreturn]] void abort(int code) override {
    host_.abort(code);
    std::_Exit(code);  // not reached
  }

 private:
  Comm& host_;
};

struct StepState {
  std::vector<float> params, m, v;  // full length, canonical order (m, v gathered)
  std::vector<double> norms;
};

// Three optimizer steps of rank `comm.rank()` with the trainer's sequence of calls. The
// gradient of micro-batch k of step s (G per step) is a function of (s, k) alone; the rank
// sums the canonical subtrees inside its block (comm/tree_split.h) with tree_accumulate on
// `ops`'s device, as train_step does, then reduce-scatters them. Returns the full params and
// this rank's m/v slices placed in full-length buffers (zeros elsewhere).
constexpr int kGradAccum = 6;

StepState run_steps(Comm& host, Comm& data, const KernelOps& ops, int64_t total) {
  const int W = host.size(), r = host.rank();
  const TreeSplit split = split_tree(kGradAccum, W);
  const Range owned = owned_range(total, r, W);
  const std::vector<optim::DecayRange> decay{{0, total / 2}};
  optim::AdamW opt({0.9f, 0.95f, 1e-8f, 0.1f}, decay, owned, ops);
  opt.freeze({{100, 700}, {total - 5000, total - 4000}});

  std::vector<float> init(static_cast<size_t>(total));
  std::mt19937 rng(11);
  std::normal_distribution<float> n01(0, 1);
  for (float& x : init) x = n01(rng);
  DeviceBuffer<float> params(ops, size_t(total)), owned_grad(ops, size_t(owned.size()));
  std::vector<DeviceBuffer<float>> partials, levels_bufs;
  for (int i = 0; i < split.parts(r); ++i) partials.emplace_back(ops, size_t(total));
  for (int l = 1; l < tree_levels(kGradAccum); ++l) levels_bufs.emplace_back(ops, size_t(total));
  const bool need_scratch = W > 1 || !data.skips_single_rank_collectives();  // as the trainer
  DeviceBuffer<float> scratch(ops, need_scratch ? size_t(reduce_scatter_scratch_floats(total, split)) : 0);
  DeviceBuffer<double> chunk_sums;
  params.upload(init.data(), init.size());
  StepState out;
  std::vector<float> g(static_cast<size_t>(total));
  for (int step = 0; step < 3; ++step) {
    std::vector<const float*> parts;
    for (int i = 0; i < split.parts(r); ++i) {
      const TreeNode node = split.nodes[size_t(split.first_node[r] + i)];
      std::vector<float*> levels{partials[size_t(i)].data()};
      for (auto& l : levels_bufs) levels.push_back(l.data());
      tree_accumulate(node.lo, node.size(), levels, total, [&](int k, float* leaf) {
        std::mt19937 grng(uint32_t(1000 * step + k));
        std::normal_distribution<float> leaf_n01(0, 1);  // its own: a distribution caches draws
        for (float& x : g) x = leaf_n01(grng) * 0.01f;
        ops.upload(leaf, g.data(), sizeof(float) * g.size());
      }, ops);
      parts.push_back(levels[0]);
    }
    reduce_scatter_canonical(data, ops, split, parts, total, owned_grad.data(), scratch.data());
    opt.zero_frozen(owned_grad.data());
    const double norm = optim::global_grad_norm(host, ops, owned_grad.data(), owned, total, chunk_sums);
    const float scale = norm > 0.5 ? float(0.5 / (norm + 1e-6)) : 1.0f;
    opt.step(params.data(), owned_grad.data(), 1e-3f, step + 1, scale);
    allgather_owned(data, params.data(), total);
    out.norms.push_back(norm);
  }
  out.params.resize(size_t(total));
  params.download(out.params.data(), out.params.size());
  out.m.assign(size_t(total), 0.0f);
  out.v.assign(size_t(total), 0.0f);
  ops.download(out.m.data() + owned.begin, opt.m(), sizeof(float) * size_t(owned.size()));
  ops.download(out.v.data() + owned.begin, opt.v(), sizeof(float) * size_t(owned.size()));
  return out;
}

// Runs W ranks as threads; returns rank 0's params and the m/v slices of all ranks merged.
StepState run_world(int W, bool on_shadow, int64_t total) {
  std::vector<StepState> per_rank(static_cast<size_t>(W));
  ckpt::test::run_ranks(W, [&](Comm& host) {
    ShadowDataComm shadow_data(host);
    per_rank[size_t(host.rank())] = on_shadow ? run_steps(host, shadow_data, test::shadow_ops(), total)
                                              : run_steps(host, host, cpu_ops(), total);
  });
  StepState merged = per_rank[0];
  for (int r = 1; r < W; ++r) {
    EXPECT_EQ(0, std::memcmp(per_rank[size_t(r)].params.data(), merged.params.data(), 4 * size_t(total)))
        << "rank " << r << " has other parameters than rank 0";
    const Range o = owned_range(total, r, W);
    std::memcpy(merged.m.data() + o.begin, per_rank[size_t(r)].m.data() + o.begin, 4 * size_t(o.size()));
    std::memcpy(merged.v.data() + o.begin, per_rank[size_t(r)].v.data() + o.begin, 4 * size_t(o.size()));
  }
  return merged;
}

void expect_same_bits(const StepState& a, const StepState& b, const std::string& what) {
  EXPECT_EQ(0, std::memcmp(a.params.data(), b.params.data(), 4 * a.params.size())) << what << ": params";
  EXPECT_EQ(0, std::memcmp(a.m.data(), b.m.data(), 4 * a.m.size())) << what << ": m";
  EXPECT_EQ(0, std::memcmp(a.v.data(), b.v.data(), 4 * a.v.size())) << what << ": v";
  ASSERT_EQ(a.norms.size(), b.norms.size());
  for (size_t i = 0; i < a.norms.size(); ++i) EXPECT_EQ(a.norms[i], b.norms[i]) << what << ": norm of step " << i;
}

// G = 6 on W = 1..6: powers of two dividing G and not (W = 4 splits it 2,2,1,1: two
// blocks are not subtrees; W = 5 leaves 1-2 partials per rank and zero-count rounds on the
// NCCL stand-in). Host and device agree bit for bit, and every W gives the bits of W = 1.
TEST(StepOnAnyDevice, DeviceStepIsBitwiseTheHostStepForEveryWorldSize) {
  const int64_t total = 9 * kChunkFloats;  // 9 chunks: unequal owned slices
  const StepState one = run_world(1, false, total);
  for (int W = 1; W <= kGradAccum; ++W) {
    const StepState host = run_world(W, false, total);
    const StepState dev = run_world(W, true, total);
    expect_same_bits(dev, host, "W " + std::to_string(W) + " shadow vs host");
    expect_same_bits(host, one, "W " + std::to_string(W) + " vs W 1");
  }
}

}  // namespace
}  // namespace cairn

// AdamW over owned slices and the learning-rate schedule. The per-element update formula is
// tested in tests/kernels; here: decay masks, slicing (any split of the buffer gives the
// same bits), the schedule's shape, and the order-free grad norm.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "optim/adamw.h"

namespace cairn::optim {
namespace {

TEST(LrSchedule, WarmupThenCosine) {
  EXPECT_DOUBLE_EQ(lr_at(0, 1.0, 0.1, 4, 20), 0.25);
  EXPECT_DOUBLE_EQ(lr_at(3, 1.0, 0.1, 4, 20), 1.0);
  EXPECT_DOUBLE_EQ(lr_at(4, 1.0, 0.1, 4, 20), 1.0);
  EXPECT_NEAR(lr_at(12, 1.0, 0.1, 4, 20), 0.55, 1e-12);
  EXPECT_NEAR(lr_at(20, 1.0, 0.1, 4, 20), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(lr_at(5, 1.0, 0.1, 0, 0), 1.0);
}

TEST(AdamW, SlicesGiveTheSameBitsAsTheWhole) {
  const int64_t total = 6 * kChunkFloats;
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> p0(total), g(total);
  for (auto& x : p0) x = n(rng);
  for (auto& x : g) x = n(rng) * 0.1f;
  std::vector<DecayRange> decay{{100, 5000}, {9000, 20000}};
  AdamWConfig cfg{0.9f, 0.95f, 1e-8f, 0.1f};

  std::vector<float> whole = p0;
  AdamW one(cfg, decay, {0, total});
  for (int t = 1; t <= 3; ++t) one.step(whole.data(), g.data(), 1e-2f, t, 0.7f);

  for (int W : {2, 4}) {
    std::vector<float> sliced = p0;
    for (int r = 0; r < W; ++r) {
      Range owned = owned_range(total, r, W);
      AdamW part(cfg, decay, owned);
      for (int t = 1; t <= 3; ++t) part.step(sliced.data(), g.data() + owned.begin, 1e-2f, t, 0.7f);
    }
    EXPECT_EQ(0, std::memcmp(whole.data(), sliced.data(), sizeof(float) * total)) << "W " << W;
  }
}

TEST(AdamW, DecayOnlyInsideDecayRanges) {
  const int64_t total = kChunkFloats;
  std::vector<float> p(total, 1.0f), g(total, 0.0f);
  AdamW opt({0.9f, 0.95f, 1e-8f, 0.5f}, {{10, 20}}, {0, total});
  opt.step(p.data(), g.data(), 0.1f, 1, 1.0f);
  EXPECT_EQ(p[9], 1.0f);
  EXPECT_FLOAT_EQ(p[10], 1.0f - 0.1f * 0.5f);
  EXPECT_EQ(p[20], 1.0f);
}

TEST(GradNorm, MatchesDoubleSum) {
  auto comm = make_local_comm();
  const int64_t total = 3 * kChunkFloats;
  std::vector<float> g(total);
  double want = 0;
  for (int64_t i = 0; i < total; ++i) g[i] = float(std::sin(double(i))), want += double(g[i]) * g[i];
  EXPECT_NEAR(global_grad_norm(*comm, g.data(), {0, total}, total), std::sqrt(want), 1e-9);
}

}  // namespace
}  // namespace cairn::optim

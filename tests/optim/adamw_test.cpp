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

// train.freeze: frozen ranges keep their parameters and (zero) moments, even inside a decay
// range; everything else gets exactly the update it gets without freezing.
TEST(AdamW, FrozenRangesAreUntouchedAndTheRestUnchanged) {
  const int64_t total = 3 * kChunkFloats;
  std::mt19937 rng(2);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> p0(total), g(total);
  for (auto& x : p0) x = n(rng);
  for (auto& x : g) x = n(rng) * 0.1f;
  AdamWConfig cfg{0.9f, 0.95f, 1e-8f, 0.1f};
  const std::vector<DecayRange> decay{{0, 6000}};
  const std::vector<Range> frozen{{4000, 4500}, {7000, 9001}};
  std::vector<float> plain = p0, fz = p0;
  AdamW a(cfg, decay, {0, total}), b(cfg, decay, {0, total});
  b.freeze(frozen);
  std::vector<float> gz = g;
  b.zero_frozen(gz.data());
  EXPECT_EQ(gz[4000], 0.0f);
  EXPECT_EQ(gz[9000], 0.0f);
  EXPECT_EQ(gz[9001], g[9001]);
  for (int t = 1; t <= 3; ++t) {
    a.step(plain.data(), g.data(), 1e-2f, t, 1.0f);
    b.step(fz.data(), gz.data(), 1e-2f, t, 1.0f);
  }
  for (int64_t i = 0; i < total; ++i) {
    const bool is_frozen = (i >= 4000 && i < 4500) || (i >= 7000 && i < 9001);
    if (is_frozen) {
      ASSERT_EQ(fz[i], p0[i]) << i;
      ASSERT_EQ(b.m()[i], 0.0f) << i;
      ASSERT_EQ(b.v()[i], 0.0f) << i;
    } else {
      ASSERT_EQ(0, std::memcmp(&fz[i], &plain[i], 4)) << i;
    }
  }
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

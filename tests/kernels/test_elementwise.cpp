// tests/kernels/test_elementwise.cpp — gelu, residual, dropout and add_inplace: float64
// references, finite differences for GELU, the dropout counter scheme, mask statistics and
// forward/backward mask agreement, thread-count invariance.
#include <cmath>
#include <vector>

#include "core/philox.h"
#include "kernel_test_util.h"
#include "kernels/cpu/dropout_mask.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

double ref_gelu(double x) {
  const double k = std::sqrt(2.0 / M_PI);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

double ref_gelu_grad(double x) {
  const double k = std::sqrt(2.0 / M_PI);
  const double th = std::tanh(k * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * k * (1.0 + 3.0 * 0.044715 * x * x);
}

constexpr int64_t kOdd = 40009;  // prime: several parallel tiles and a ragged vector tail

TEST(Gelu, ForwardMatchesFloat64Reference) {
  for (int64_t n : {int64_t(1), int64_t(13), kOdd}) {
    const auto x = random_floats(n, 1, -6.0f, 6.0f);
    std::vector<float> y(n);
    cpu::gelu_forward(y.data(), x.data(), n);
    std::vector<double> ref(n);
    for (int64_t i = 0; i < n; ++i) ref[i] = ref_gelu(x[i]);
    EXPECT_ALL_CLOSE(y.data(), ref.data(), n, kFp32Forward);
  }
}

TEST(Gelu, BackwardAddsAnalyticAndFiniteDifferenceGradient) {
  const int64_t n = kOdd;
  const auto x = random_floats(n, 2, -6.0f, 6.0f), dy = random_floats(n, 3);
  const auto dx0 = random_floats(n, 4);
  auto dx = dx0;
  cpu::gelu_backward(dx.data(), x.data(), dy.data(), n);
  std::vector<double> analytic(n), fd(n);
  const double h = 1e-6;
  for (int64_t i = 0; i < n; ++i) {
    analytic[i] = ref_gelu_grad(x[i]) * dy[i];
    fd[i] = (ref_gelu(double(x[i]) + h) - ref_gelu(double(x[i]) - h)) / (2 * h) * dy[i];
  }
  EXPECT_ALL_CLOSE(dx.data(), plus(dx0, analytic).data(), n, kFp32Backward);
  EXPECT_ALL_CLOSE(dx.data(), plus(dx0, fd).data(), n, kFp32Backward);
}

TEST(Residual, ForwardAndAddInplace) {
  const int64_t n = kOdd;
  const auto a = random_floats(n, 5), b = random_floats(n, 6);
  std::vector<float> out(n);
  cpu::residual_forward(out.data(), a.data(), b.data(), n);
  auto acc = a;
  cpu::add_inplace(acc.data(), b.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(out[i], a[i] + b[i]) << i;
    ASSERT_EQ(acc[i], a[i] + b[i]) << i;
  }
}

DropoutSite site(float p) { return DropoutSite{p, 0xC0FFEEull, 11, 2, 9}; }

// The documented counter scheme, spelled out independently of dropout_mask.h.
TEST(DropoutMask, FollowsTheCounterScheme) {
  const DropoutSite drop = site(0.3f);
  const PhiloxStream stream{drop.seed, RngPurpose::kDropout};
  for (int64_t e : {int64_t(0), int64_t(1), int64_t(6), int64_t(4097), int64_t(123456789)}) {
    const uint32_t word = stream.draw(uint32_t(e / 4), drop.site, drop.micro_batch, drop.step).v[e % 4];
    EXPECT_EQ(cpu::dropout_keep(drop, e), uniform_from_u32(word) >= drop.p) << e;
  }
}

TEST(Dropout, ForwardKeepsMaskedElementsScaled) {
  const int64_t n = kOdd;
  const auto x = random_floats(n, 7, 0.5f, 1.5f);  // nonzero everywhere
  for (float p : {0.1f, 0.5f}) {
    std::vector<float> y(n);
    cpu::dropout_forward(y.data(), x.data(), n, site(p));
    const float scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < n; ++i) {
      const float want = cpu::dropout_keep(site(p), i) ? x[i] * scale : 0.0f;
      ASSERT_EQ(y[i], want) << "element " << i << " p=" << p;
    }
  }
}

TEST(Dropout, MaskFractionIsNearP) {
  const int64_t n = int64_t(1) << 21;
  const std::vector<float> x(n, 1.0f);
  for (float p : {0.1f, 0.5f, 0.9f}) {
    std::vector<float> y(n);
    cpu::dropout_forward(y.data(), x.data(), n, site(p));
    int64_t dropped = 0;
    for (float v : y) dropped += v == 0.0f;
    // Binomial standard deviation is below 4e-4 here; allow ~10 sigma.
    EXPECT_NEAR(double(dropped) / n, p, 4e-3) << "p=" << p;
  }
}

TEST(Dropout, MasksDifferAcrossSitesStepsAndMicroBatches) {
  const int64_t n = 4096;
  const std::vector<float> x(n, 1.0f);
  auto mask = [&](DropoutSite d) {
    std::vector<float> y(n);
    cpu::dropout_forward(y.data(), x.data(), n, d);
    return y;
  };
  const DropoutSite base = site(0.5f);
  DropoutSite other_site = base, other_step = base, other_mb = base, other_seed = base;
  other_site.site += 1;
  other_step.step += 1;
  other_mb.micro_batch += 1;
  other_seed.seed += 1;
  EXPECT_TRUE(same_bits(mask(base), mask(base)));
  for (const DropoutSite& d : {other_site, other_step, other_mb, other_seed}) EXPECT_FALSE(same_bits(mask(base), mask(d)));
}

TEST(Dropout, BackwardUsesTheForwardMaskAndAdds) {
  const int64_t n = kOdd;
  const auto x = random_floats(n, 8, 0.5f, 1.5f), dy = random_floats(n, 9);
  const auto dx0 = random_floats(n, 10);
  const DropoutSite drop = site(0.25f);
  std::vector<float> y(n);
  cpu::dropout_forward(y.data(), x.data(), n, drop);
  auto dx = dx0;
  cpu::dropout_backward(dx.data(), dy.data(), n, drop);
  const float scale = 1.0f / (1.0f - drop.p);
  for (int64_t i = 0; i < n; ++i) {
    const float passed = y[i] != 0.0f ? dy[i] * scale : 0.0f;
    ASSERT_EQ(dx[i], dx0[i] + passed) << i;
  }
}

TEST(Dropout, ZeroProbabilityIsCopyAndAdd) {
  const int64_t n = 1001;
  const auto x = random_floats(n, 11), dx0 = random_floats(n, 12);
  std::vector<float> y(n);
  cpu::dropout_forward(y.data(), x.data(), n, site(0.0f));
  EXPECT_TRUE(same_bits(y, x));
  auto dx = dx0;
  cpu::dropout_backward(dx.data(), x.data(), n, site(0.0f));
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(dx[i], dx0[i] + x[i]);
}

TEST(Elementwise, ThreadCountInvariant) {
  const int64_t n = 3 * kOdd;
  const auto x = random_floats(n, 13, -5.0f, 5.0f), dy = random_floats(n, 14);
  expect_thread_invariant([&] {
    std::vector<float> g(n), dg(n, 0.5f), d(n), dd(n, 0.25f), r(n), acc = x;
    cpu::gelu_forward(g.data(), x.data(), n);
    cpu::gelu_backward(dg.data(), x.data(), dy.data(), n);
    cpu::dropout_forward(d.data(), x.data(), n, site(0.1f));
    cpu::dropout_backward(dd.data(), dy.data(), n, site(0.1f));
    cpu::residual_forward(r.data(), x.data(), dy.data(), n);
    cpu::add_inplace(acc.data(), dy.data(), n);
    return std::vector<std::vector<float>>{g, dg, d, dd, r, acc};
  });
}

TEST(Gelu, ResultsDoNotDependOnBufferAlignment) {
  const int64_t n = 1001;
  const auto x = random_floats(n, 15, -5.0f, 5.0f), dy = random_floats(n, 16);
  std::vector<std::vector<float>> first;
  for (int shift : {0, 1, 3, 5}) {
    Shifted xs(x, shift), dys(dy, shift), y(std::vector<float>(n), shift), dx(std::vector<float>(n), shift);
    cpu::gelu_forward(y.data(), xs.data(), n);
    cpu::gelu_backward(dx.data(), xs.data(), dys.data(), n);
    if (first.empty()) first = {y.values(), dx.values()};
    EXPECT_TRUE(same_bits(first[0], y.values())) << "shift " << shift;
    EXPECT_TRUE(same_bits(first[1], dx.values())) << "shift " << shift;
  }
}

}  // namespace
}  // namespace cairn::test

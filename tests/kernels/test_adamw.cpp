// tests/kernels/test_adamw.cpp — adamw_update over several steps against a float64 reference
// (weight decay on/off, grad_scale != 1), sumsq_chunks against the contract's 8-lane double sum,
// thread-count invariance.
#include <cmath>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

struct Hyper {
  float lr, beta1, beta2, eps, weight_decay, grad_scale;
};

void ref_adamw(std::vector<double>& p, const std::vector<float>& g, std::vector<double>& m,
               std::vector<double>& v, const Hyper& h, int64_t t) {
  const double b1 = h.beta1, b2 = h.beta2;
  for (size_t i = 0; i < p.size(); ++i) {
    const double gi = double(g[i]) * h.grad_scale;
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    const double m_hat = m[i] / (1 - std::pow(b1, double(t)));
    const double v_hat = v[i] / (1 - std::pow(b2, double(t)));
    p[i] -= double(h.lr) * (m_hat / (std::sqrt(v_hat) + h.eps) + double(h.weight_decay) * p[i]);
  }
}

TEST(AdamW, SeveralStepsMatchFloat64Reference) {
  const int64_t n = 40009;
  for (float wd : {0.0f, 0.1f}) {
    const Hyper h{1e-2f, 0.9f, 0.95f, 1e-8f, wd, 0.7f};
    auto p = random_floats(n, 1);
    std::vector<float> m(n), v(n);
    auto pr = to_double(p);
    std::vector<double> mr(n), vr(n);
    for (int64_t t = 1; t <= 5; ++t) {
      const auto g = random_floats(n, 100 + uint32_t(t), -2.0f, 2.0f);
      cpu::adamw_update(p.data(), g.data(), m.data(), v.data(), n, h.lr, h.beta1, h.beta2, h.eps,
                        h.weight_decay, t, h.grad_scale);
      ref_adamw(pr, g, mr, vr, h, t);
    }
    EXPECT_ALL_CLOSE(p.data(), pr.data(), n, kFp32Forward) << "weight_decay " << wd;
    EXPECT_ALL_CLOSE(m.data(), mr.data(), n, kFp32Forward) << "weight_decay " << wd;
    EXPECT_ALL_CLOSE(v.data(), vr.data(), n, kFp32Forward) << "weight_decay " << wd;
  }
}

TEST(AdamW, WeightDecayOnlyShrinksWhenGradientIsZero) {
  const int64_t n = 17;
  auto p = random_floats(n, 2);
  const auto p0 = p;
  const std::vector<float> g(n, 0.0f);
  std::vector<float> m(n), v(n);
  cpu::adamw_update(p.data(), g.data(), m.data(), v.data(), n, 0.5f, 0.9f, 0.999f, 1e-8f, 0.1f, 1, 1.0f);
  for (int64_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(p[i], p0[i] * (1.0f - 0.5f * 0.1f));
}

TEST(SumsqChunks, EqualsEightLaneDoubleSum) {
  const int64_t chunk = 1031, n_chunks = 7;
  const auto x = random_floats(chunk * n_chunks, 3, -3.0f, 3.0f);
  std::vector<double> out(n_chunks);
  cpu::sumsq_chunks(out.data(), x.data(), n_chunks, chunk);
  for (int64_t c = 0; c < n_chunks; ++c) {
    double lane[8] = {};
    for (int64_t i = 0; i < chunk; ++i) {
      const double v = x[c * chunk + i];
      lane[i % 8] += v * v;
    }
    const double want = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    EXPECT_EQ(out[c], want) << "chunk " << c;  // the contract's order, so the same bits
  }
}

TEST(AdamW, ThreadCountInvariant) {
  const int64_t n = 100003;
  const auto p0 = random_floats(n, 4), g = random_floats(n, 5);
  expect_thread_invariant([&] {
    auto p = p0;
    std::vector<float> m(n, 0.01f), v(n, 0.02f);
    cpu::adamw_update(p.data(), g.data(), m.data(), v.data(), n, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 7, 0.5f);
    std::vector<double> sums(97);
    cpu::sumsq_chunks(sums.data(), p.data(), 97, n / 97);
    std::vector<float> sums_bits(2 * sums.size());
    std::memcpy(sums_bits.data(), sums.data(), sums.size() * sizeof(double));
    return std::vector<std::vector<float>>{p, m, v, sums_bits};
  });
}

}  // namespace
}  // namespace cairn::test

// tests/kernels/test_attention.cpp — attention_forward/backward against a float64 reference
// (same dropout mask function), an analytic float64 backward and finite differences; shapes
// with T beyond one query chunk; thread-count invariance.
#include <cmath>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/dropout_mask.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

struct Shape {
  int B, T, C, NH;
};

struct AttnRef {
  std::vector<double> att, out;
};

// Dropout multiplier of att element e, in float64.
double drop_factor(const DropoutSite& drop, int64_t e) {
  if (drop.p == 0.0f) return 1.0;
  return cpu::dropout_keep(drop, e) ? 1.0 / (1.0 - double(drop.p)) : 0.0;
}

AttnRef ref_forward(const std::vector<double>& qkv, const Shape& s, const DropoutSite& drop) {
  const int hs = s.C / s.NH, C3 = 3 * s.C;
  AttnRef r{std::vector<double>(size_t(s.B) * s.NH * s.T * s.T), std::vector<double>(size_t(s.B) * s.T * s.C)};
  for (int b = 0; b < s.B; ++b)
    for (int h = 0; h < s.NH; ++h)
      for (int t = 0; t < s.T; ++t) {
        const double* q = &qkv[size_t(b * s.T + t) * C3 + h * hs];
        const size_t arow = ((size_t(b) * s.NH + h) * s.T + t) * s.T;
        std::vector<double> score(t + 1);
        double max = -1e300, sum = 0;
        for (int j = 0; j <= t; ++j) {
          const double* k = &qkv[size_t(b * s.T + j) * C3 + s.C + h * hs];
          double dot = 0;
          for (int d = 0; d < hs; ++d) dot += q[d] * k[d];
          score[j] = dot / std::sqrt(double(hs));
          max = std::max(max, score[j]);
        }
        for (int j = 0; j <= t; ++j) sum += std::exp(score[j] - max);
        for (int j = 0; j <= t; ++j) r.att[arow + j] = std::exp(score[j] - max) / sum;
        for (int d = 0; d < hs; ++d) {
          double acc = 0;
          for (int j = 0; j <= t; ++j)
            acc += r.att[arow + j] * drop_factor(drop, arow + j) *
                   qkv[size_t(b * s.T + j) * C3 + 2 * s.C + h * hs + d];
          r.out[size_t(b * s.T + t) * s.C + h * hs + d] = acc;
        }
      }
  return r;
}

// Analytic gradient of sum(out * dout) with respect to qkv.
std::vector<double> ref_backward(const std::vector<double>& dout, const std::vector<double>& qkv,
                                 const Shape& s, const DropoutSite& drop) {
  const int hs = s.C / s.NH, C3 = 3 * s.C;
  const double scale = 1.0 / std::sqrt(double(hs));
  const AttnRef f = ref_forward(qkv, s, drop);
  std::vector<double> dqkv(qkv.size());
  auto at = [&](int b, int t, int part, int h, int d) { return size_t(b * s.T + t) * C3 + part * s.C + h * hs + d; };
  for (int b = 0; b < s.B; ++b)
    for (int h = 0; h < s.NH; ++h)
      for (int t = 0; t < s.T; ++t) {
        const size_t arow = ((size_t(b) * s.NH + h) * s.T + t) * s.T;
        const double* dy = &dout[size_t(b * s.T + t) * s.C + h * hs];
        std::vector<double> dp(t + 1);
        double dot = 0;
        for (int j = 0; j <= t; ++j) {
          const double fac = drop_factor(drop, arow + j);
          double dd = 0;
          for (int d = 0; d < hs; ++d) {
            dd += dy[d] * qkv[at(b, j, 2, h, d)];
            dqkv[at(b, j, 2, h, d)] += f.att[arow + j] * fac * dy[d];  // dv
          }
          dp[j] = dd * fac;
          dot += dp[j] * f.att[arow + j];
        }
        for (int j = 0; j <= t; ++j) {
          const double ds = f.att[arow + j] * (dp[j] - dot) * scale;
          for (int d = 0; d < hs; ++d) {
            dqkv[at(b, t, 0, h, d)] += ds * qkv[at(b, j, 1, h, d)];
            dqkv[at(b, j, 1, h, d)] += ds * qkv[at(b, t, 0, h, d)];
          }
        }
      }
  return dqkv;
}

std::vector<float> random_qkv(const Shape& s, uint32_t seed) {
  return random_floats(size_t(s.B) * s.T * 3 * s.C, seed, -1.5f, 1.5f);
}

// Odd shapes, and T = 150 / 131 spanning several query chunks.
const Shape kShapes[] = {{3, 7, 12, 3}, {2, 150, 24, 3}, {1, 131, 10, 2}};
const float kProbs[] = {0.0f, 0.2f};

DropoutSite site(float p) { return DropoutSite{p, 0x1234567890abcdefull, 17, 3, 5}; }

TEST(Attention, ForwardMatchesFloat64Reference) {
  for (const Shape& s : kShapes)
    for (float p : kProbs) {
      const auto qkv = random_qkv(s, 1);
      std::vector<float> out(size_t(s.B) * s.T * s.C), att(size_t(s.B) * s.NH * s.T * s.T, 9.0f);
      cpu::attention_forward(out.data(), att.data(), qkv.data(), mha_shape(s.B, s.T, s.C, s.NH), site(p));
      const AttnRef ref = ref_forward(to_double(qkv), s, site(p));
      EXPECT_ALL_CLOSE(att.data(), ref.att.data(), att.size(), kFp32Forward) << "T=" << s.T << " p=" << p;
      EXPECT_ALL_CLOSE(out.data(), ref.out.data(), out.size(), kFp32Forward) << "T=" << s.T << " p=" << p;
    }
}

TEST(Attention, DropoutChangesOutputAndAttIsSavedBeforeIt) {
  const Shape s{2, 9, 12, 3};
  const auto qkv = random_qkv(s, 2);
  std::vector<float> out0(size_t(s.B) * s.T * s.C), out1(out0.size());
  std::vector<float> att0(size_t(s.B) * s.NH * s.T * s.T), att1(att0.size());
  cpu::attention_forward(out0.data(), att0.data(), qkv.data(), mha_shape(s.B, s.T, s.C, s.NH), site(0.0f));
  cpu::attention_forward(out1.data(), att1.data(), qkv.data(), mha_shape(s.B, s.T, s.C, s.NH), site(0.5f));
  EXPECT_TRUE(same_bits(att0, att1));
  EXPECT_FALSE(same_bits(out0, out1));
}

TEST(Attention, BackwardAddsFloat64Gradients) {
  for (const Shape& s : kShapes)
    for (float p : kProbs) {
      const auto qkv = random_qkv(s, 3);
      const auto dout = random_floats(size_t(s.B) * s.T * s.C, 4);
      std::vector<float> out(dout.size()), att(size_t(s.B) * s.NH * s.T * s.T);
      cpu::attention_forward(out.data(), att.data(), qkv.data(), mha_shape(s.B, s.T, s.C, s.NH), site(p));
      const auto dqkv0 = random_floats(qkv.size(), 5);
      auto dqkv = dqkv0;
      cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), mha_shape(s.B, s.T, s.C, s.NH), site(p));
      const auto ref = ref_backward(to_double(dout), to_double(qkv), s, site(p));
      EXPECT_ALL_CLOSE(dqkv.data(), plus(dqkv0, ref).data(), dqkv.size(), kFp32Backward)
          << "T=" << s.T << " p=" << p;
    }
}

TEST(Attention, BackwardMatchesFiniteDifferences) {
  const Shape s{2, 5, 8, 2};
  for (float p : kProbs) {
    const auto qkv = random_qkv(s, 6);
    const auto dout = random_floats(size_t(s.B) * s.T * s.C, 7);
    std::vector<float> out(dout.size()), att(size_t(s.B) * s.NH * s.T * s.T), dqkv(qkv.size());
    cpu::attention_forward(out.data(), att.data(), qkv.data(), mha_shape(s.B, s.T, s.C, s.NH), site(p));
    cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), mha_shape(s.B, s.T, s.C, s.NH), site(p));
    const auto dd = to_double(dout);
    const auto fd = finite_difference(
        [&](const std::vector<double>& x) {
          const auto o = ref_forward(x, s, site(p)).out;
          double l = 0;
          for (size_t i = 0; i < o.size(); ++i) l += o[i] * dd[i];
          return l;
        },
        to_double(qkv));
    EXPECT_ALL_CLOSE(dqkv.data(), fd.data(), dqkv.size(), kFp32Backward) << "p=" << p;
  }
}

TEST(Attention, ThreadCountInvariant) {
  const Shape s{2, 150, 24, 3};
  const auto qkv = random_qkv(s, 8);
  const auto dout = random_floats(size_t(s.B) * s.T * s.C, 9);
  for (float p : kProbs)
    expect_thread_invariant([&] {
      std::vector<float> out(dout.size()), att(size_t(s.B) * s.NH * s.T * s.T), dqkv(qkv.size(), 0.5f);
      cpu::attention_forward(out.data(), att.data(), qkv.data(), mha_shape(s.B, s.T, s.C, s.NH), site(p));
      cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), mha_shape(s.B, s.T, s.C, s.NH), site(p));
      return std::vector<std::vector<float>>{out, att, dqkv};
    });
}

TEST(Attention, ResultsDoNotDependOnBufferAlignment) {
  const Shape s{1, 70, 12, 2};
  const auto qkv = random_qkv(s, 10);
  const auto dout = random_floats(size_t(s.B) * s.T * s.C, 11);
  std::vector<std::vector<float>> first;
  for (int shift : {0, 1, 3, 5}) {
    Shifted q(qkv, shift), dy(dout, shift), out(std::vector<float>(dout.size()), shift);
    Shifted att(std::vector<float>(size_t(s.B) * s.NH * s.T * s.T), shift), dq(std::vector<float>(qkv.size()), shift);
    cpu::attention_forward(out.data(), att.data(), q.data(), mha_shape(s.B, s.T, s.C, s.NH), site(0.1f));
    cpu::attention_backward(dq.data(), dy.data(), q.data(), att.data(), mha_shape(s.B, s.T, s.C, s.NH), site(0.1f));
    const std::vector<std::vector<float>> outs{out.values(), att.values(), dq.values()};
    if (first.empty()) first = outs;
    for (size_t i = 0; i < outs.size(); ++i) EXPECT_TRUE(same_bits(first[i], outs[i])) << "output " << i << " shift " << shift;
  }
}

}  // namespace
}  // namespace cairn::test

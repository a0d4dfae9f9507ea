// tests/kernels/test_attention_lse.cpp — attention_lse_forward/backward against a float64
// reference (grouped heads as HF's repeat_kv, same dropout mask function), an analytic float64
// backward and finite differences; GQA, MQA (NKV = 1) and MHA; agreement with
// attention_forward/backward (which keep P); T beyond one query chunk; thread-count invariance.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/dropout_mask.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

struct Shape {
  int B, T, NH, NKV, hd;
  int64_t width() const { return int64_t(NH + 2 * NKV) * hd; }
  int64_t qkv_size() const { return int64_t(B) * T * width(); }
  int64_t out_size() const { return int64_t(B) * T * NH * hd; }
  int64_t lse_size() const { return int64_t(B) * NH * T; }
  // column of head h's q (part 0), or of its key/value head's k (1) / v (2)
  int64_t col(int part, int h) const {
    const int g = h / (NH / NKV);
    return part == 0 ? int64_t(h) * hd : part == 1 ? int64_t(NH + g) * hd : int64_t(NH + NKV + g) * hd;
  }
  AttentionShape shape() const { return {B, T, NH, NKV, hd}; }
  size_t at(int b, int t, int part, int h, int d) const {
    return size_t((int64_t(b) * T + t) * width() + col(part, h) + d);
  }
};

double drop_factor(const DropoutSite& drop, int64_t e) {
  if (drop.p == 0.0f) return 1.0;
  return cpu::dropout_keep(drop, e) ? 1.0 / (1.0 - double(drop.p)) : 0.0;
}

struct Ref {
  std::vector<double> att, out, lse;  // att [B,NH,T,T] (P, before dropout)
};

Ref ref_forward(const std::vector<double>& qkv, const Shape& s, const DropoutSite& drop) {
  Ref r{std::vector<double>(size_t(s.B) * s.NH * s.T * s.T), std::vector<double>(s.out_size()),
        std::vector<double>(s.lse_size())};
  for (int b = 0; b < s.B; ++b)
    for (int h = 0; h < s.NH; ++h)
      for (int t = 0; t < s.T; ++t) {
        const size_t arow = ((size_t(b) * s.NH + h) * s.T + t) * s.T;
        std::vector<double> score(t + 1);
        double max = -1e300, sum = 0;
        for (int j = 0; j <= t; ++j) {
          double dot = 0;
          for (int d = 0; d < s.hd; ++d) dot += qkv[s.at(b, t, 0, h, d)] * qkv[s.at(b, j, 1, h, d)];
          score[j] = dot / std::sqrt(double(s.hd));
          max = std::max(max, score[j]);
        }
        for (int j = 0; j <= t; ++j) sum += std::exp(score[j] - max);
        r.lse[(size_t(b) * s.NH + h) * s.T + t] = max + std::log(sum);
        for (int j = 0; j <= t; ++j) r.att[arow + j] = std::exp(score[j] - max) / sum;
        for (int d = 0; d < s.hd; ++d) {
          double acc = 0;
          for (int j = 0; j <= t; ++j) acc += r.att[arow + j] * drop_factor(drop, arow + j) * qkv[s.at(b, j, 2, h, d)];
          r.out[(size_t(b) * s.T + t) * s.NH * s.hd + size_t(h) * s.hd + d] = acc;
        }
      }
  return r;
}

// Analytic gradient of sum(out * dout) with respect to qkv; shared k/v heads sum over their
// query heads.
std::vector<double> ref_backward(const std::vector<double>& dout, const std::vector<double>& qkv, const Shape& s,
                                 const DropoutSite& drop) {
  const double scale = 1.0 / std::sqrt(double(s.hd));
  const Ref f = ref_forward(qkv, s, drop);
  std::vector<double> dqkv(qkv.size());
  for (int b = 0; b < s.B; ++b)
    for (int h = 0; h < s.NH; ++h)
      for (int t = 0; t < s.T; ++t) {
        const size_t arow = ((size_t(b) * s.NH + h) * s.T + t) * s.T;
        const double* dy = &dout[(size_t(b) * s.T + t) * s.NH * s.hd + size_t(h) * s.hd];
        std::vector<double> dp(t + 1);
        double dot = 0;
        for (int j = 0; j <= t; ++j) {
          const double fac = drop_factor(drop, arow + j);
          double dd = 0;
          for (int d = 0; d < s.hd; ++d) {
            dd += dy[d] * qkv[s.at(b, j, 2, h, d)];
            dqkv[s.at(b, j, 2, h, d)] += f.att[arow + j] * fac * dy[d];
          }
          dp[j] = dd * fac;
          dot += dp[j] * f.att[arow + j];
        }
        for (int j = 0; j <= t; ++j) {
          const double ds = f.att[arow + j] * (dp[j] - dot) * scale;
          for (int d = 0; d < s.hd; ++d) {
            dqkv[s.at(b, t, 0, h, d)] += ds * qkv[s.at(b, j, 1, h, d)];
            dqkv[s.at(b, j, 1, h, d)] += ds * qkv[s.at(b, t, 0, h, d)];
          }
        }
      }
  return dqkv;
}

// GQA with odd head dims, T = 150 / 131 over several 64-query chunks, MQA, and MHA.
const Shape kShapes[] = {{3, 7, 6, 2, 4}, {2, 150, 6, 3, 5}, {1, 131, 5, 1, 6}, {2, 67, 3, 3, 8}};
const float kProbs[] = {0.0f, 0.2f};

DropoutSite site(float p) { return DropoutSite{p, 0x1234567890abcdefull, 17, 3, 5}; }

struct Outputs {
  std::vector<float> out, lse;
};

Outputs forward(const std::vector<float>& qkv, const Shape& s, float p) {
  Outputs o{std::vector<float>(s.out_size(), 9.0f), std::vector<float>(s.lse_size(), 9.0f)};
  cpu::attention_lse_forward(o.out.data(), o.lse.data(), qkv.data(), s.shape(), site(p));
  return o;
}

TEST(AttentionLse, ForwardMatchesFloat64Reference) {
  for (const Shape& s : kShapes)
    for (float p : kProbs) {
      const auto qkv = random_floats(s.qkv_size(), 1, -1.5f, 1.5f);
      const Outputs o = forward(qkv, s, p);
      const Ref ref = ref_forward(to_double(qkv), s, site(p));
      EXPECT_ALL_CLOSE(o.out.data(), ref.out.data(), o.out.size(), kFp32Forward) << "T=" << s.T << " p=" << p;
      EXPECT_ALL_CLOSE(o.lse.data(), ref.lse.data(), o.lse.size(), kFp32Forward) << "T=" << s.T << " p=" << p;
    }
}

TEST(AttentionLse, BackwardAddsFloat64Gradients) {
  for (const Shape& s : kShapes)
    for (float p : kProbs) {
      const auto qkv = random_floats(s.qkv_size(), 3, -1.5f, 1.5f);
      const auto dout = random_floats(s.out_size(), 4);
      const Outputs o = forward(qkv, s, p);
      const auto dqkv0 = random_floats(qkv.size(), 5);
      auto dqkv = dqkv0;
      cpu::attention_lse_backward(dqkv.data(), dout.data(), qkv.data(), o.lse.data(), s.shape(), site(p));
      const auto ref = ref_backward(to_double(dout), to_double(qkv), s, site(p));
      EXPECT_ALL_CLOSE(dqkv.data(), plus(dqkv0, ref).data(), dqkv.size(), kFp32Backward)
          << "T=" << s.T << " NKV=" << s.NKV << " p=" << p;
    }
}

TEST(AttentionLse, BackwardMatchesFiniteDifferences) {
  const Shape s{2, 5, 4, 2, 3};
  for (float p : kProbs) {
    const auto qkv = random_floats(s.qkv_size(), 6, -1.5f, 1.5f);
    const auto dout = random_floats(s.out_size(), 7);
    const Outputs o = forward(qkv, s, p);
    std::vector<float> dqkv(qkv.size());
    cpu::attention_lse_backward(dqkv.data(), dout.data(), qkv.data(), o.lse.data(), s.shape(), site(p));
    const auto dd = to_double(dout);
    const auto fd = finite_difference(
        [&](const std::vector<double>& x) {
          const auto y = ref_forward(x, s, site(p)).out;
          double l = 0;
          for (size_t i = 0; i < y.size(); ++i) l += y[i] * dd[i];
          return l;
        },
        to_double(qkv));
    EXPECT_ALL_CLOSE(dqkv.data(), fd.data(), dqkv.size(), kFp32Backward) << "p=" << p;
  }
}

// attention_forward/backward (which keep P) take the same layouts, head mapping and dropout
// counters: the two ops agree, MHA and GQA, to rounding (one normalizes by 1/sum, the other by
// exp(-lse)).
TEST(AttentionLse, AgreesWithAttentionThatKeepsP) {
  for (const Shape& s : {Shape{2, 70, 3, 3, 8}, Shape{2, 70, 6, 2, 5}})
    for (float p : kProbs) {
      const auto qkv = random_floats(s.qkv_size(), 8, -1.5f, 1.5f);
      const auto dout = random_floats(s.out_size(), 9);
      const Outputs o = forward(qkv, s, p);
      std::vector<float> out(s.out_size()), saved(attention_saved_floats(s.shape()));
      cpu::attention_forward(out.data(), saved.data(), qkv.data(), s.shape(), site(p));
      EXPECT_ALL_CLOSE(o.out.data(), out.data(), out.size(), kFp32Forward) << "NKV=" << s.NKV << " p=" << p;
      std::vector<float> d_lse(qkv.size()), d_p(qkv.size());
      cpu::attention_lse_backward(d_lse.data(), dout.data(), qkv.data(), o.lse.data(), s.shape(), site(p));
      cpu::attention_backward(d_p.data(), dout.data(), qkv.data(), saved.data(), s.shape(), site(p));
      EXPECT_ALL_CLOSE(d_lse.data(), d_p.data(), d_lse.size(), kFp32Backward) << "NKV=" << s.NKV << " p=" << p;
    }
}

TEST(AttentionLse, ThreadCountInvariant) {
  const Shape s{2, 150, 6, 2, 5};
  const auto qkv = random_floats(s.qkv_size(), 10, -1.5f, 1.5f);
  const auto dout = random_floats(s.out_size(), 11);
  for (float p : kProbs)
    expect_thread_invariant([&] {
      const Outputs o = forward(qkv, s, p);
      std::vector<float> dqkv(qkv.size(), 0.5f);
      cpu::attention_lse_backward(dqkv.data(), dout.data(), qkv.data(), o.lse.data(), s.shape(), site(p));
      return std::vector<std::vector<float>>{o.out, o.lse, dqkv};
    });
}

TEST(AttentionLse, ResultsDoNotDependOnBufferAlignment) {
  const Shape s{1, 70, 4, 2, 6};
  const auto qkv = random_floats(s.qkv_size(), 12, -1.5f, 1.5f);
  const auto dout = random_floats(s.out_size(), 13);
  std::vector<std::vector<float>> first;
  for (int shift : {0, 1, 3, 5}) {
    Shifted q(qkv, shift), dy(dout, shift), out(std::vector<float>(s.out_size()), shift);
    Shifted lse(std::vector<float>(s.lse_size()), shift), dq(std::vector<float>(qkv.size()), shift);
    cpu::attention_lse_forward(out.data(), lse.data(), q.data(), s.shape(), site(0.1f));
    cpu::attention_lse_backward(dq.data(), dy.data(), q.data(), lse.data(), s.shape(), site(0.1f));
    const std::vector<std::vector<float>> outs{out.values(), lse.values(), dq.values()};
    if (first.empty()) first = outs;
    for (size_t i = 0; i < outs.size(); ++i) EXPECT_TRUE(same_bits(first[i], outs[i])) << "output " << i << " shift " << shift;
  }
}

}  // namespace
}  // namespace cairn::test

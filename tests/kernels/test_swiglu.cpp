// tests/kernels/test_swiglu.cpp — swiglu_forward/backward (silu(gate) * up over a packed
// [gate | up] input) against float64 references, finite differences, thread-count invariance.
#include <cmath>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

double silu(double g) { return g / (1.0 + std::exp(-g)); }

std::vector<double> ref_forward(const std::vector<double>& inp, int N, int F) {
  std::vector<double> out(size_t(N) * F);
  for (int n = 0; n < N; ++n)
    for (int f = 0; f < F; ++f) {
      const double g = inp[size_t(n) * 2 * F + f], u = inp[size_t(n) * 2 * F + F + f];
      out[size_t(n) * F + f] = silu(g) * u;
    }
  return out;
}

// d/dg silu(g) = sig(g) + g sig(g) (1 - sig(g))
std::vector<double> ref_backward(const std::vector<double>& dout, const std::vector<double>& inp, int N, int F) {
  std::vector<double> dinp(inp.size());
  for (int n = 0; n < N; ++n)
    for (int f = 0; f < F; ++f) {
      const size_t gi = size_t(n) * 2 * F + f, ui = gi + F;
      const double g = inp[gi], u = inp[ui], dy = dout[size_t(n) * F + f];
      const double sig = 1.0 / (1.0 + std::exp(-g));
      dinp[gi] = dy * u * (sig + g * sig * (1.0 - sig));
      dinp[ui] = dy * silu(g);
    }
  return dinp;
}

struct Shape {
  int N, F;
};
// F = 263: a ragged column block; 131 x 29: several row tiles none of which divides evenly.
const Shape kShapes[] = {{1, 1}, {7, 263}, {1031, 29}, {3, 17000}};

TEST(SwiGlu, ForwardMatchesFloat64Reference) {
  for (const Shape& s : kShapes) {
    const auto inp = random_floats(size_t(s.N) * 2 * s.F, 1, -8.0f, 8.0f);
    std::vector<float> out(size_t(s.N) * s.F, 9.0f);
    cpu::swiglu_forward(out.data(), inp.data(), s.N, s.F);
    const auto ref = ref_forward(to_double(inp), s.N, s.F);
    EXPECT_ALL_CLOSE(out.data(), ref.data(), out.size(), kFp32Forward) << "N=" << s.N << " F=" << s.F;
  }
}

// Saturated gates: exp(-g) overflows float for g < -88; silu must go to 0, not NaN.
TEST(SwiGlu, LargeGatesStayFinite) {
  const std::vector<float> inp{-200.0f, -90.0f, 90.0f, 200.0f, 1.5f, 2.0f, -3.0f, 0.5f};
  std::vector<float> out(4), dinp(8, 0.0f);
  const std::vector<float> dout{1.0f, 1.0f, 1.0f, 1.0f};
  cpu::swiglu_forward(out.data(), inp.data(), 1, 4);
  cpu::swiglu_backward(dinp.data(), dout.data(), inp.data(), 1, 4);
  const auto ref = ref_forward(to_double(inp), 1, 4);
  const auto dref = ref_backward(to_double(dout), to_double(inp), 1, 4);
  EXPECT_ALL_CLOSE(out.data(), ref.data(), 4, kFp32Forward);
  EXPECT_ALL_CLOSE(dinp.data(), dref.data(), 8, kFp32Backward);
}

TEST(SwiGlu, BackwardAddsAnalyticAndFiniteDifferenceGradients) {
  for (const Shape& s : kShapes) {
    const auto inp = random_floats(size_t(s.N) * 2 * s.F, 2, -8.0f, 8.0f);
    const auto dout = random_floats(size_t(s.N) * s.F, 3);
    const auto dinp0 = random_floats(inp.size(), 4);
    auto dinp = dinp0;
    cpu::swiglu_backward(dinp.data(), dout.data(), inp.data(), s.N, s.F);
    const auto ref = ref_backward(to_double(dout), to_double(inp), s.N, s.F);
    EXPECT_ALL_CLOSE(dinp.data(), plus(dinp0, ref).data(), dinp.size(), kFp32Backward) << "F=" << s.F;
  }
  const int N = 3, F = 7;
  const auto inp = random_floats(N * 2 * F, 5, -4.0f, 4.0f), dout = random_floats(N * F, 6);
  std::vector<float> dinp(inp.size());
  cpu::swiglu_backward(dinp.data(), dout.data(), inp.data(), N, F);
  const auto dd = to_double(dout);
  const auto fd = finite_difference(
      [&](const std::vector<double>& x) {
        const auto o = ref_forward(x, N, F);
        double l = 0;
        for (size_t i = 0; i < o.size(); ++i) l += o[i] * dd[i];
        return l;
      },
      to_double(inp));
  EXPECT_ALL_CLOSE(dinp.data(), fd.data(), dinp.size(), kFp32Backward);
}

TEST(SwiGlu, ThreadCountInvariant) {
  const int N = 2003, F = 29;  // 4 row tiles, the last one short
  const auto inp = random_floats(size_t(N) * 2 * F, 7, -8.0f, 8.0f), dout = random_floats(size_t(N) * F, 8);
  expect_thread_invariant([&] {
    std::vector<float> out(size_t(N) * F), dinp(inp.size(), 0.5f);
    cpu::swiglu_forward(out.data(), inp.data(), N, F);
    cpu::swiglu_backward(dinp.data(), dout.data(), inp.data(), N, F);
    return std::vector<std::vector<float>>{out, dinp};
  });
}

}  // namespace
}  // namespace cairn::test

// tests/kernels/test_rmsnorm.cpp — rmsnorm_forward/backward against a float64 reference, an
// analytic float64 backward and finite differences of the float64 forward; thread-count
// invariance.
#include <cmath>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

constexpr float kEps = 1e-5f;

struct RmsRef {
  std::vector<double> out, rstd;
};

RmsRef ref_forward(const std::vector<double>& x, const std::vector<double>& w, int N, int C, double eps) {
  RmsRef r{std::vector<double>(x.size()), std::vector<double>(N)};
  for (int n = 0; n < N; ++n) {
    const double* xn = &x[size_t(n) * C];
    double ms = 0;
    for (int c = 0; c < C; ++c) ms += xn[c] * xn[c];
    const double rstd = 1.0 / std::sqrt(ms / C + eps);
    for (int c = 0; c < C; ++c) r.out[size_t(n) * C + c] = xn[c] * rstd * w[c];
    r.rstd[n] = rstd;
  }
  return r;
}

struct RmsGrads {
  std::vector<double> dinp, dweight;
};

// Analytic gradients of sum(out * dout), written independently of the kernel's formula:
// d rstd / d x_k = -rstd^3 x_k / C.
RmsGrads ref_backward(const std::vector<double>& dy, const std::vector<double>& x, const std::vector<double>& w,
                      int N, int C, double eps) {
  const RmsRef f = ref_forward(x, w, N, C, eps);
  RmsGrads g{std::vector<double>(x.size()), std::vector<double>(C)};
  for (int n = 0; n < N; ++n) {
    const size_t row = size_t(n) * C;
    const double s = f.rstd[n];
    double dot = 0;  // sum_c dy_c w_c x_c
    for (int c = 0; c < C; ++c) {
      dot += dy[row + c] * w[c] * x[row + c];
      g.dweight[c] += dy[row + c] * x[row + c] * s;
    }
    for (int k = 0; k < C; ++k) g.dinp[row + k] = dy[row + k] * w[k] * s - dot * s * s * s * x[row + k] / C;
  }
  return g;
}

struct Shape {
  int N, C;
};
const Shape kShapes[] = {{21, 12}, {7, 61}, {37, 211}};  // 37 rows: not a multiple of the row tile

TEST(RmsNorm, ForwardMatchesFloat64Reference) {
  for (const Shape& s : kShapes)
    for (float eps : {kEps, 1e-6f}) {
      const auto x = random_floats(size_t(s.N) * s.C, 1, -2.0f, 3.0f);
      const auto w = random_floats(s.C, 2);
      std::vector<float> out(x.size(), 9.0f), rstd(s.N, 9.0f);
      cpu::rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), s.N, s.C, eps);
      const RmsRef ref = ref_forward(to_double(x), to_double(w), s.N, s.C, eps);
      EXPECT_ALL_CLOSE(out.data(), ref.out.data(), out.size(), kFp32Forward) << "C=" << s.C;
      EXPECT_ALL_CLOSE(rstd.data(), ref.rstd.data(), s.N, kFp32Forward) << "C=" << s.C;
    }
}

// Rows of tiny values: eps dominates, as it does for an all-zero padding row.
TEST(RmsNorm, EpsMattersForSmallRows) {
  const int N = 3, C = 17;
  const auto x = random_floats(N * C, 3, -1e-3f, 1e-3f), w = random_floats(C, 4);
  std::vector<float> out(x.size()), rstd(N);
  cpu::rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, kEps);
  const RmsRef ref = ref_forward(to_double(x), to_double(w), N, C, kEps);
  EXPECT_ALL_CLOSE(rstd.data(), ref.rstd.data(), N, kFp32Forward);
  EXPECT_ALL_CLOSE(out.data(), ref.out.data(), out.size(), kFp32Forward);
}

TEST(RmsNorm, BackwardAddsFloat64Gradients) {
  for (const Shape& s : kShapes) {
    const auto x = random_floats(size_t(s.N) * s.C, 5, -2.0f, 3.0f);
    const auto w = random_floats(s.C, 6), dy = random_floats(x.size(), 7);
    std::vector<float> out(x.size()), rstd(s.N);
    cpu::rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), s.N, s.C, kEps);
    const auto dx0 = random_floats(x.size(), 8), dw0 = random_floats(s.C, 9);
    auto dx = dx0, dw = dw0;
    cpu::rmsnorm_backward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(), s.N, s.C);
    const RmsGrads ref = ref_backward(to_double(dy), to_double(x), to_double(w), s.N, s.C, kEps);
    EXPECT_ALL_CLOSE(dx.data(), plus(dx0, ref.dinp).data(), dx.size(), kFp32Backward) << "C=" << s.C;
    EXPECT_ALL_CLOSE(dw.data(), plus(dw0, ref.dweight).data(), dw.size(), kFp32Backward) << "C=" << s.C;
  }
}

TEST(RmsNorm, BackwardMatchesFiniteDifferences) {
  const int N = 5, C = 13;
  const auto x = random_floats(N * C, 11, -2.0f, 2.0f);
  const auto w = random_floats(C, 12), dy = random_floats(N * C, 13);
  std::vector<float> out(x.size()), rstd(N), dx(x.size()), dw(C);
  cpu::rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, kEps);
  cpu::rmsnorm_backward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(), N, C);
  const auto xd = to_double(x), wd = to_double(w), dyd = to_double(dy);
  auto loss = [&](const std::vector<double>& xs, const std::vector<double>& ws) {
    const auto o = ref_forward(xs, ws, N, C, kEps).out;
    double l = 0;
    for (size_t i = 0; i < o.size(); ++i) l += o[i] * dyd[i];
    return l;
  };
  const auto fd_x = finite_difference([&](const std::vector<double>& v) { return loss(v, wd); }, xd);
  const auto fd_w = finite_difference([&](const std::vector<double>& v) { return loss(xd, v); }, wd);
  EXPECT_ALL_CLOSE(dx.data(), fd_x.data(), dx.size(), kFp32Backward);
  EXPECT_ALL_CLOSE(dw.data(), fd_w.data(), dw.size(), kFp32Backward);
}

TEST(RmsNorm, ThreadCountInvariant) {
  const int N = 101, C = 211;  // 7 row tiles, 4 column tiles (ragged)
  const auto x = random_floats(N * C, 15, -2.0f, 3.0f);
  const auto w = random_floats(C, 16), dy = random_floats(N * C, 17);
  expect_thread_invariant([&] {
    std::vector<float> out(x.size()), rstd(N), dx(x.size(), 0.5f), dw(C, 0.25f);
    cpu::rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, kEps);
    cpu::rmsnorm_backward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(), N, C);
    return std::vector<std::vector<float>>{out, rstd, dx, dw};
  });
}

}  // namespace
}  // namespace cairn::test

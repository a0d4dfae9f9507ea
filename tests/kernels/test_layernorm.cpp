// tests/kernels/test_layernorm.cpp — layernorm_forward/backward against a float64 reference,
// an analytic float64 backward, and finite differences of the float64 forward.
#include <cmath>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

struct LnRef {
  std::vector<double> out, mean, rstd;
};

LnRef ref_forward(const std::vector<double>& x, const std::vector<double>& w,
                  const std::vector<double>& b, int N, int C) {
  LnRef r{std::vector<double>(x.size()), std::vector<double>(N), std::vector<double>(N)};
  for (int n = 0; n < N; ++n) {
    const double* xn = &x[size_t(n) * C];
    double mean = 0, var = 0;
    for (int c = 0; c < C; ++c) mean += xn[c];
    mean /= C;
    for (int c = 0; c < C; ++c) var += (xn[c] - mean) * (xn[c] - mean);
    var /= C;
    const double rstd = 1.0 / std::sqrt(var + 1e-5);
    for (int c = 0; c < C; ++c) r.out[size_t(n) * C + c] = (xn[c] - mean) * rstd * w[c] + b[c];
    r.mean[n] = mean;
    r.rstd[n] = rstd;
  }
  return r;
}

struct LnGrads {
  std::vector<double> dinp, dweight, dbias;
};

// Analytic gradients of sum(out * dout).
LnGrads ref_backward(const std::vector<double>& dy, const std::vector<double>& x,
                     const std::vector<double>& w, int N, int C) {
  const LnRef f = ref_forward(x, w, std::vector<double>(C), N, C);
  LnGrads g{std::vector<double>(x.size()), std::vector<double>(C), std::vector<double>(C)};
  for (int n = 0; n < N; ++n) {
    const size_t row = size_t(n) * C;
    double g_mean = 0, gx_mean = 0;
    for (int c = 0; c < C; ++c) {
      const double xhat = (x[row + c] - f.mean[n]) * f.rstd[n];
      g_mean += w[c] * dy[row + c];
      gx_mean += w[c] * dy[row + c] * xhat;
      g.dweight[c] += dy[row + c] * xhat;
      g.dbias[c] += dy[row + c];
    }
    g_mean /= C;
    gx_mean /= C;
    for (int c = 0; c < C; ++c) {
      const double xhat = (x[row + c] - f.mean[n]) * f.rstd[n];
      g.dinp[row + c] = (w[c] * dy[row + c] - g_mean - xhat * gx_mean) * f.rstd[n];
    }
  }
  return g;
}

struct Shape {
  int N, C;
};
const Shape kShapes[] = {{21, 12}, {7, 61}, {37, 200}};  // 37 rows: not a multiple of the row tile

TEST(LayerNorm, ForwardMatchesFloat64Reference) {
  for (const Shape& s : kShapes) {
    const auto x = random_floats(size_t(s.N) * s.C, 1, -2.0f, 3.0f);
    const auto w = random_floats(s.C, 2), b = random_floats(s.C, 3);
    std::vector<float> out(x.size()), mean(s.N), rstd(s.N);
    cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), s.N, s.C);
    const LnRef ref = ref_forward(to_double(x), to_double(w), to_double(b), s.N, s.C);
    EXPECT_ALL_CLOSE(out.data(), ref.out.data(), out.size(), kFp32Forward);
    EXPECT_ALL_CLOSE(mean.data(), ref.mean.data(), s.N, kFp32Forward);
    EXPECT_ALL_CLOSE(rstd.data(), ref.rstd.data(), s.N, kFp32Forward);
  }
}

TEST(LayerNorm, BackwardAddsFloat64Gradients) {
  for (const Shape& s : kShapes) {
    const auto x = random_floats(size_t(s.N) * s.C, 4, -2.0f, 3.0f);
    const auto w = random_floats(s.C, 5), b = random_floats(s.C, 6);
    const auto dy = random_floats(x.size(), 7);
    std::vector<float> out(x.size()), mean(s.N), rstd(s.N);
    cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), s.N, s.C);
    const auto dx0 = random_floats(x.size(), 8), dw0 = random_floats(s.C, 9), db0 = random_floats(s.C, 10);
    auto dx = dx0, dw = dw0, db = db0;
    cpu::layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(),
                            mean.data(), rstd.data(), s.N, s.C);
    const LnGrads ref = ref_backward(to_double(dy), to_double(x), to_double(w), s.N, s.C);
    EXPECT_ALL_CLOSE(dx.data(), plus(dx0, ref.dinp).data(), dx.size(), kFp32Backward);
    EXPECT_ALL_CLOSE(dw.data(), plus(dw0, ref.dweight).data(), dw.size(), kFp32Backward);
    EXPECT_ALL_CLOSE(db.data(), plus(db0, ref.dbias).data(), db.size(), kFp32Backward);
  }
}

// The kernel's gradients against central differences of the float64 forward of sum(out*dout).
TEST(LayerNorm, BackwardMatchesFiniteDifferences) {
  const int N = 5, C = 13;
  const auto x = random_floats(N * C, 11, -2.0f, 2.0f);
  const auto w = random_floats(C, 12), b = random_floats(C, 13), dy = random_floats(N * C, 14);
  std::vector<float> out(x.size()), mean(N), rstd(N), dx(x.size()), dw(C), db(C);
  cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
  cpu::layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(),
                          mean.data(), rstd.data(), N, C);
  const auto xd = to_double(x), wd = to_double(w), bd = to_double(b), dyd = to_double(dy);
  auto loss = [&](const std::vector<double>& xs, const std::vector<double>& ws, const std::vector<double>& bs) {
    const auto o = ref_forward(xs, ws, bs, N, C).out;
    double l = 0;
    for (size_t i = 0; i < o.size(); ++i) l += o[i] * dyd[i];
    return l;
  };
  const auto fd_x = finite_difference([&](const std::vector<double>& v) { return loss(v, wd, bd); }, xd);
  const auto fd_w = finite_difference([&](const std::vector<double>& v) { return loss(xd, v, bd); }, wd);
  const auto fd_b = finite_difference([&](const std::vector<double>& v) { return loss(xd, wd, v); }, bd);
  EXPECT_ALL_CLOSE(dx.data(), fd_x.data(), dx.size(), kFp32Backward);
  EXPECT_ALL_CLOSE(dw.data(), fd_w.data(), dw.size(), kFp32Backward);
  EXPECT_ALL_CLOSE(db.data(), fd_b.data(), db.size(), kFp32Backward);
}

TEST(LayerNorm, ThreadCountInvariant) {
  const int N = 100, C = 200;  // 7 row tiles, 4 column tiles (ragged)
  const auto x = random_floats(N * C, 15, -2.0f, 3.0f);
  const auto w = random_floats(C, 16), b = random_floats(C, 17), dy = random_floats(N * C, 18);
  expect_thread_invariant([&] {
    std::vector<float> out(x.size()), mean(N), rstd(N), dx(x.size(), 0.5f), dw(C, 0.25f), db(C, 1.0f);
    cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
    cpu::layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(),
                            mean.data(), rstd.data(), N, C);
    return std::vector<std::vector<float>>{out, mean, rstd, dx, dw, db};
  });
}

}  // namespace
}  // namespace cairn::test

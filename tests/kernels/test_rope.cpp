// tests/kernels/test_rope.cpp — rope_table against HF's formula in float64; rope_forward and
// rope_backward against float64 rotations of (i, i + hd/2) pairs (HF's rotate_half, not
// interleaved), finite differences, in-place use, untouched columns past H*hd (v inside a
// packed qkv), and thread-count invariance.
#include <cmath>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

struct Shape {
  int B, T, H, hd;
  int64_t ld;  // row stride >= H*hd
};
// 7 heads of 6 in rows of 59 (q and k of a packed qkv with v after); T = 37 > one row tile.
const Shape kShapes[] = {{1, 1, 1, 2, 2}, {2, 37, 7, 6, 59}, {3, 13, 3, 64, 5 * 64}};

struct Table {
  std::vector<float> cos, sin;
};

Table table(int T, int hd, float theta) {
  Table t{std::vector<float>(size_t(T) * hd / 2), std::vector<float>(size_t(T) * hd / 2)};
  cpu::rope_table(t.cos.data(), t.sin.data(), T, hd, theta);
  return t;
}

// HF: out = x * cat(c, c) + rotate_half(x) * cat(s, s), rotate_half(x) = cat(-x2, x1), in
// float64 from the kernel's table (transpose = true: the inverse rotation, R^T).
std::vector<double> ref_rotate(const std::vector<double>& x, const Table& tb, const Shape& s, bool transpose) {
  std::vector<double> out = x;
  const int half = s.hd / 2;
  for (int64_t n = 0; n < int64_t(s.B) * s.T; ++n) {
    const int64_t t = n % s.T;
    for (int h = 0; h < s.H; ++h)
      for (int i = 0; i < s.hd; ++i) {
        const int pair = i < half ? i : i - half;
        const double c = tb.cos[t * half + pair], sn = tb.sin[t * half + pair] * (transpose ? -1.0 : 1.0);
        const double* xh = &x[n * s.ld + h * s.hd];
        const double rot = i < half ? -xh[i + half] : xh[i - half];
        out[n * s.ld + h * s.hd + i] = xh[i] * c + rot * sn;
      }
  }
  return out;
}

TEST(Rope, TableMatchesHfFormulaInFloat64) {
  for (float theta : {10000.0f, 100000.0f, 500000.0f})
    for (int hd : {2, 6, 64}) {
      const int T = 97;
      const Table tb = table(T, hd, theta);
      std::vector<double> want_c(tb.cos.size()), want_s(tb.sin.size());
      for (int t = 0; t < T; ++t)
        for (int i = 0; i < hd / 2; ++i) {
          const double angle = t / std::pow(double(theta), 2.0 * i / hd);
          want_c[size_t(t) * hd / 2 + i] = std::cos(angle);
          want_s[size_t(t) * hd / 2 + i] = std::sin(angle);
        }
      EXPECT_ALL_CLOSE(tb.cos.data(), want_c.data(), want_c.size(), kFp32Forward) << theta << " " << hd;
      EXPECT_ALL_CLOSE(tb.sin.data(), want_s.data(), want_s.size(), kFp32Forward) << theta << " " << hd;
      EXPECT_EQ(tb.cos[0], 1.0f);
      EXPECT_EQ(tb.sin[0], 0.0f);
    }
}

// The first pair of head 0 at position 1, by hand: x[0] pairs with x[hd/2], not with x[1].
TEST(Rope, PairsAreIAndIPlusHalf) {
  const Table tb = table(2, 4, 10000.0f);
  const std::vector<float> x{0, 0, 0, 0, 1, 2, 3, 4};  // positions 0 and 1, one head of 4
  std::vector<float> y(8);
  cpu::rope_forward(y.data(), x.data(), tb.cos.data(), tb.sin.data(), 1, 2, 1, 4, 4);
  const float c = tb.cos[2], s = tb.sin[2];  // t = 1, i = 0
  EXPECT_EQ(y[4], 1.0f * c + (-3.0f) * s);
  EXPECT_EQ(y[6], 3.0f * c + 1.0f * s);
}

TEST(Rope, ForwardAndBackwardMatchFloat64Rotations) {
  for (const Shape& s : kShapes) {
    const Table tb = table(s.T, s.hd, 100000.0f);
    const auto x = random_floats(int64_t(s.B) * s.T * s.ld, 1, -3.0f, 3.0f);
    auto y = x;  // columns past H*hd keep x's values: they must be left alone
    cpu::rope_forward(y.data(), x.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H, s.hd, s.ld);
    const auto want = ref_rotate(to_double(x), tb, s, false);
    EXPECT_ALL_CLOSE(y.data(), want.data(), y.size(), kFp32Forward) << "hd=" << s.hd;

    auto dx = random_floats(x.size(), 2);  // written, not added: prior values must not leak in
    const auto dy = random_floats(x.size(), 3);
    auto dx_want = ref_rotate(to_double(dy), tb, s, true);
    for (int64_t n = 0; n < int64_t(s.B) * s.T; ++n)
      for (int64_t c = int64_t(s.H) * s.hd; c < s.ld; ++c) dx_want[n * s.ld + c] = dx[n * s.ld + c];
    cpu::rope_backward(dx.data(), dy.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H, s.hd, s.ld);
    EXPECT_ALL_CLOSE(dx.data(), dx_want.data(), dx.size(), kFp32Backward) << "hd=" << s.hd;
  }
}

// Gradient of sum(rope(x) * dout) by central differences of the float64 forward.
TEST(Rope, BackwardMatchesFiniteDifferences) {
  const Shape s{2, 5, 3, 6, 20};
  const Table tb = table(s.T, s.hd, 10000.0f);
  const auto x = random_floats(int64_t(s.B) * s.T * s.ld, 4), dy = random_floats(x.size(), 5);
  std::vector<float> dx(x.size());
  cpu::rope_backward(dx.data(), dy.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H, s.hd, s.ld);
  const auto dyd = to_double(dy);
  auto fd = finite_difference(
      [&](const std::vector<double>& v) {
        const auto o = ref_rotate(v, tb, s, false);
        double l = 0;
        for (int64_t n = 0; n < int64_t(s.B) * s.T; ++n)
          for (int64_t c = 0; c < int64_t(s.H) * s.hd; ++c) l += o[n * s.ld + c] * dyd[n * s.ld + c];
        return l;
      },
      to_double(x));
  EXPECT_ALL_CLOSE(dx.data(), fd.data(), dx.size(), kFp32Backward);
}

TEST(Rope, InPlaceEqualsOutOfPlace) {
  const Shape s = kShapes[1];
  const Table tb = table(s.T, s.hd, 10000.0f);
  const auto x = random_floats(int64_t(s.B) * s.T * s.ld, 6);
  auto out = x, in_place = x;
  cpu::rope_forward(out.data(), x.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H, s.hd, s.ld);
  cpu::rope_forward(in_place.data(), in_place.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H, s.hd, s.ld);
  EXPECT_TRUE(same_bits(out, in_place));
  auto grad = x, grad_in_place = x;
  cpu::rope_backward(grad.data(), x.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H, s.hd, s.ld);
  cpu::rope_backward(grad_in_place.data(), grad_in_place.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H,
                     s.hd, s.ld);
  EXPECT_TRUE(same_bits(grad, grad_in_place));
}

TEST(Rope, ThreadCountInvariant) {
  const Shape s{3, 67, 5, 14, 75};  // 201 rows: 7 row tiles, the last one short
  const Table tb = table(s.T, s.hd, 100000.0f);
  const auto x = random_floats(int64_t(s.B) * s.T * s.ld, 7), dy = random_floats(x.size(), 8);
  expect_thread_invariant([&] {
    std::vector<float> y(x.size()), dx(x.size());
    cpu::rope_forward(y.data(), x.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H, s.hd, s.ld);
    cpu::rope_backward(dx.data(), dy.data(), tb.cos.data(), tb.sin.data(), s.B, s.T, s.H, s.hd, s.ld);
    return std::vector<std::vector<float>>{y, dx};
  });
}

}  // namespace
}  // namespace cairn::test

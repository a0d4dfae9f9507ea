// tests/kernels/test_matmul.cpp — matmul_forward/backward and matmul_nt_forward/backward
// against float64 references, on prime shapes and on shapes spanning several output tiles.
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

struct Shape {
  int N, IC, OC;
};
// Prime/odd shapes, and one spanning several 128 x 256 output blocks with ragged edges.
const Shape kShapes[] = {{37, 17, 23}, {1, 5, 3}, {300, 200, 600}};

// Reference for both layouts: weight element (i, o) is w[i*OC + o], or w[o*IC + i] when nt.
double weight_at(const std::vector<float>& w, int i, int o, int IC, int OC, bool nt) {
  return nt ? double(w[size_t(o) * IC + i]) : double(w[size_t(i) * OC + o]);
}

std::vector<double> ref_forward(const std::vector<float>& x, const std::vector<float>& w,
                                const float* bias, const Shape& s, bool nt) {
  std::vector<double> y(size_t(s.N) * s.OC);
  for (int n = 0; n < s.N; ++n)
    for (int o = 0; o < s.OC; ++o) {
      double acc = bias ? double(bias[o]) : 0.0;
      for (int i = 0; i < s.IC; ++i) acc += double(x[size_t(n) * s.IC + i]) * weight_at(w, i, o, s.IC, s.OC, nt);
      y[size_t(n) * s.OC + o] = acc;
    }
  return y;
}

struct RefGrads {
  std::vector<double> dinp, dweight, dbias;
};

// Gradients of sum(out * dout); dweight in the kernel's layout.
RefGrads ref_backward(const std::vector<float>& dy, const std::vector<float>& x,
                      const std::vector<float>& w, const Shape& s, bool nt) {
  RefGrads g{std::vector<double>(size_t(s.N) * s.IC), std::vector<double>(size_t(s.IC) * s.OC),
             std::vector<double>(s.OC)};
  for (int n = 0; n < s.N; ++n)
    for (int o = 0; o < s.OC; ++o) {
      const double d = dy[size_t(n) * s.OC + o];
      g.dbias[o] += d;
      for (int i = 0; i < s.IC; ++i) {
        g.dinp[size_t(n) * s.IC + i] += d * weight_at(w, i, o, s.IC, s.OC, nt);
        const size_t wi = nt ? size_t(o) * s.IC + i : size_t(i) * s.OC + o;
        g.dweight[wi] += d * double(x[size_t(n) * s.IC + i]);
      }
    }
  return g;
}

TEST(Matmul, ForwardMatchesFloat64Reference) {
  for (const Shape& s : kShapes) {
    const auto x = random_floats(size_t(s.N) * s.IC, 1);
    const auto w = random_floats(size_t(s.IC) * s.OC, 2);
    const auto b = random_floats(s.OC, 3);
    std::vector<float> y(size_t(s.N) * s.OC, 7.0f);  // garbage: forward overwrites
    cpu::matmul_forward(y.data(), x.data(), w.data(), b.data(), s.N, s.IC, s.OC);
    EXPECT_ALL_CLOSE(y.data(), ref_forward(x, w, b.data(), s, false).data(), y.size(), kFp32Forward);
    cpu::matmul_forward(y.data(), x.data(), w.data(), nullptr, s.N, s.IC, s.OC);
    EXPECT_ALL_CLOSE(y.data(), ref_forward(x, w, nullptr, s, false).data(), y.size(), kFp32Forward);
  }
}

TEST(Matmul, BackwardAddsFloat64Gradients) {
  for (const Shape& s : kShapes) {
    const auto x = random_floats(size_t(s.N) * s.IC, 4);
    const auto w = random_floats(size_t(s.IC) * s.OC, 5);
    const auto dy = random_floats(size_t(s.N) * s.OC, 6);
    const auto dx0 = random_floats(x.size(), 7), dw0 = random_floats(w.size(), 8);
    const auto db0 = random_floats(s.OC, 9);
    auto dx = dx0, dw = dw0, db = db0;
    cpu::matmul_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), s.N, s.IC, s.OC);
    const RefGrads ref = ref_backward(dy, x, w, s, false);
    EXPECT_ALL_CLOSE(dx.data(), plus(dx0, ref.dinp).data(), dx.size(), kFp32Backward);
    EXPECT_ALL_CLOSE(dw.data(), plus(dw0, ref.dweight).data(), dw.size(), kFp32Backward);
    EXPECT_ALL_CLOSE(db.data(), plus(db0, ref.dbias).data(), db.size(), kFp32Backward);

    // dinp and dbias are optional; dweight must come out the same without them.
    auto dw_only = dw0;
    cpu::matmul_backward(nullptr, dw_only.data(), nullptr, dy.data(), x.data(), w.data(), s.N, s.IC, s.OC);
    EXPECT_TRUE(same_bits(dw_only, dw));
  }
}

TEST(MatmulNt, ForwardMatchesFloat64Reference) {
  for (const Shape& s : kShapes) {
    const auto x = random_floats(size_t(s.N) * s.IC, 11);
    const auto w = random_floats(size_t(s.OC) * s.IC, 12);
    std::vector<float> y(size_t(s.N) * s.OC, -3.0f);
    cpu::matmul_nt_forward(y.data(), x.data(), w.data(), s.N, s.IC, s.OC);
    EXPECT_ALL_CLOSE(y.data(), ref_forward(x, w, nullptr, s, true).data(), y.size(), kFp32Forward);
  }
}

TEST(MatmulNt, BackwardAddsFloat64Gradients) {
  for (const Shape& s : kShapes) {
    const auto x = random_floats(size_t(s.N) * s.IC, 13);
    const auto w = random_floats(size_t(s.OC) * s.IC, 14);
    const auto dy = random_floats(size_t(s.N) * s.OC, 15);
    const auto dx0 = random_floats(x.size(), 16), dw0 = random_floats(w.size(), 17);
    auto dx = dx0, dw = dw0;
    cpu::matmul_nt_backward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), s.N, s.IC, s.OC);
    const RefGrads ref = ref_backward(dy, x, w, s, true);
    EXPECT_ALL_CLOSE(dx.data(), plus(dx0, ref.dinp).data(), dx.size(), kFp32Backward);
    EXPECT_ALL_CLOSE(dw.data(), plus(dw0, ref.dweight).data(), dw.size(), kFp32Backward);
  }
}

// Forward and backward at 1, 2 and 3 threads give the same bits.
void expect_matmul_thread_invariant(const Shape& s, unsigned seed) {
  const auto x = random_floats(size_t(s.N) * s.IC, seed);
  const auto w = random_floats(size_t(s.IC) * s.OC, seed + 1);
  const auto b = random_floats(s.OC, seed + 2);
  const auto dy = random_floats(size_t(s.N) * s.OC, seed + 3);
  expect_thread_invariant([&] {
    std::vector<float> y(size_t(s.N) * s.OC), dx(x.size(), 0.5f), dw(w.size(), 0.25f), db(s.OC, 1.0f);
    cpu::matmul_forward(y.data(), x.data(), w.data(), b.data(), s.N, s.IC, s.OC);
    cpu::matmul_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), s.N, s.IC, s.OC);
    return std::vector<std::vector<float>>{y, dx, dw, db};
  });
}

TEST(Matmul, ThreadCountInvariant) {
  expect_matmul_thread_invariant({300, 200, 600}, 21);  // 3 x 3 forward blocks, 2 x 3 dweight blocks, ragged edges
}

// Big enough for 256-row output blocks (gemm_tiles.h: >= 12 of them), ragged on both edges.
TEST(Matmul, ThreadCountInvariantWithLargeBlocks) {
  expect_matmul_thread_invariant({600, 72, 1100}, 31);  // forward 3 x 5 blocks of 256 x 256; dweight 1 x 5 of 128 x 256
}

TEST(MatmulNt, ThreadCountInvariant) {
  const Shape s{300, 200, 600};
  const auto x = random_floats(size_t(s.N) * s.IC, 25);
  const auto w = random_floats(size_t(s.OC) * s.IC, 26);
  const auto dy = random_floats(size_t(s.N) * s.OC, 27);
  expect_thread_invariant([&] {
    std::vector<float> y(size_t(s.N) * s.OC), dx(x.size(), 0.5f), dw(w.size(), 0.25f);
    cpu::matmul_nt_forward(y.data(), x.data(), w.data(), s.N, s.IC, s.OC);
    cpu::matmul_nt_backward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), s.N, s.IC, s.OC);
    return std::vector<std::vector<float>>{y, dx, dw};
  });
}

// Eigen may choose code paths by pointer alignment; the kernels must not let that leak into
// the bits (the model's buffers are not guaranteed any particular alignment).
TEST(Matmul, ResultsDoNotDependOnBufferAlignment) {
  const Shape s{131, 37, 263};
  const auto x = random_floats(size_t(s.N) * s.IC, 31), w = random_floats(size_t(s.IC) * s.OC, 32);
  const auto dy = random_floats(size_t(s.N) * s.OC, 33);
  std::vector<std::vector<float>> first;
  for (int shift : {0, 1, 3, 5}) {
    Shifted xs(x, shift), ws(w, shift), dys(dy, shift), y(std::vector<float>(dy.size()), shift);
    Shifted dx(std::vector<float>(x.size()), shift), dw(std::vector<float>(w.size()), shift);
    cpu::matmul_forward(y.data(), xs.data(), ws.data(), nullptr, s.N, s.IC, s.OC);
    cpu::matmul_backward(dx.data(), dw.data(), nullptr, dys.data(), xs.data(), ws.data(), s.N, s.IC, s.OC);
    const std::vector<std::vector<float>> outs{y.values(), dx.values(), dw.values()};
    if (first.empty()) first = outs;
    for (size_t i = 0; i < outs.size(); ++i) EXPECT_TRUE(same_bits(first[i], outs[i])) << "output " << i << " shift " << shift;
  }
}

}  // namespace
}  // namespace cairn::test

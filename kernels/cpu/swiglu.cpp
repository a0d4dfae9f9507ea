// kernels/cpu/swiglu.cpp — SwiGLU (HF LlamaMLP: silu(gate) * up): swiglu_forward/backward.
//
//   sig = 1 / (1 + exp(-g)),  silu(g) = g * sig,  out = silu(g) * u
//   d out/d g = u * sig * (1 + g * (1 - sig)),   d out/d u = silu(g)
// inp rows are [gate | up] (F each). Work is cut into fixed tiles of rows and, inside a row,
// fixed blocks of columns; exp is Eigen's vectorized pexp for every element (vector_math.h),
// so a value never depends on its position or on the thread count.
#include "core/parallel.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {

constexpr int64_t kTileElements = 1 << 14;  // outputs per parallel tile (whole rows)
constexpr int64_t kBlock = 256;             // columns per on-stack scratch block

// fn(row, c0, len) over column blocks of every row, rows tiled by a shape-only rule.
template <typename Fn>
void for_each_block(int N, int F, Fn&& fn) {
  const int64_t rows_per_tile = F >= kTileElements ? 1 : kTileElements / F;
  parallel_for(ceil_div(N, rows_per_tile), [&](int64_t tile) {
    const int64_t end = (tile + 1) * rows_per_tile < N ? (tile + 1) * rows_per_tile : N;
    for (int64_t n = tile * rows_per_tile; n < end; ++n)
      for (int64_t c0 = 0; c0 < F; c0 += kBlock) fn(n, c0, F - c0 < kBlock ? F - c0 : kBlock);
  });
}

// sig[i] = 1 / (1 + exp(-g[i]))
void sigmoid(float* sig, const float* g, int64_t n) {
  for (int64_t i = 0; i < n; ++i) sig[i] = -g[i];
  vec::exp_shifted(sig, sig, n, 0.0f);
  for (int64_t i = 0; i < n; ++i) sig[i] = 1.0f / (1.0f + sig[i]);
}

}  // namespace

void swiglu_forward(float* out, const float* inp, int N, int F) {
  for_each_block(N, F, [&](int64_t n, int64_t c0, int64_t len) {
    float sig[kBlock];
    const float* g = inp + n * 2 * F + c0;
    const float* u = g + F;
    sigmoid(sig, g, len);
    float* y = out + n * F + c0;
    for (int64_t i = 0; i < len; ++i) y[i] = g[i] * sig[i] * u[i];
  });
}

void swiglu_backward(float* dinp, const float* dout, const float* inp, int N, int F) {
  for_each_block(N, F, [&](int64_t n, int64_t c0, int64_t len) {
    float sig[kBlock];
    const float* g = inp + n * 2 * F + c0;
    const float* u = g + F;
    const float* dy = dout + n * F + c0;
    float* dg = dinp + n * 2 * F + c0;
    float* du = dg + F;
    sigmoid(sig, g, len);
    for (int64_t i = 0; i < len; ++i) {
      const float silu = g[i] * sig[i];
      dg[i] += dy[i] * u[i] * (sig[i] * (1.0f + g[i] * (1.0f - sig[i])));
      du[i] += dy[i] * silu;
    }
  });
}

}  // namespace cairn::cpu

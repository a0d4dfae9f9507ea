// kernels/cpu/gelu.cpp — GELU, tanh approximation (GPT-2): gelu_forward/backward.
//
//   gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//   gelu'(x) = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
// Element-wise in fixed blocks; tanh is Eigen's vectorized ptanh for every element
// (vector_math.h), so a value never depends on its position or on the thread count.
#include "core/parallel.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/host_device.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {

constexpr int64_t kTile = 1 << 14;  // elements per parallel tile
constexpr int64_t kBlock = 256;     // elements per on-stack scratch block

// fn(begin, n) over fixed blocks of [0, total), in parallel.
template <typename Fn>
void for_each_block(int64_t total, Fn&& fn) {
  parallel_for(ceil_div(total, kTile), [&](int64_t tile) {
    const int64_t end = (tile + 1) * kTile < total ? (tile + 1) * kTile : total;
    for (int64_t b = tile * kTile; b < end; b += kBlock) fn(b, end - b < kBlock ? end - b : kBlock);
  });
}

// th[i] = tanh(u(x[i]))
void tanh_of_inner(float* th, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) th[i] = kGeluSqrt2OverPi * (x[i] + kGeluCubic * x[i] * x[i] * x[i]);
  vec::tanh_inplace(th, n);
}

}  // namespace

void gelu_forward(float* out, const float* inp, int64_t n) {
  for_each_block(n, [&](int64_t begin, int64_t len) {
    float th[kBlock];
    const float* x = inp + begin;
    tanh_of_inner(th, x, len);
    for (int64_t i = 0; i < len; ++i) out[begin + i] = 0.5f * x[i] * (1.0f + th[i]);
  });
}

void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n) {
  for_each_block(n, [&](int64_t begin, int64_t len) {
    float th[kBlock];
    const float* x = inp + begin;
    tanh_of_inner(th, x, len);
    for (int64_t i = 0; i < len; ++i) {
      const float sech2 = 1.0f - th[i] * th[i];
      const float du_dx = kGeluSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x[i] * x[i]);
      const float grad = 0.5f * (1.0f + th[i]) + 0.5f * x[i] * sech2 * du_dx;
      dinp[begin + i] += grad * dout[begin + i];
    }
  });
}

}  // namespace cairn::cpu

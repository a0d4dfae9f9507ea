// kernels/cpu/dropout.cpp — dropout_forward/backward (inverted dropout) and residual_forward.
//
// The mask is the pure function of (drop, element index) in dropout_mask.h, so forward and
// backward (and the CUDA kernels) agree on it without storing it. Work is split into fixed
// element tiles; p == 0 draws no random numbers (plain copy / add).
#include <cstring>

#include "core/parallel.h"
#include "kernels/cpu/dropout_mask.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {

constexpr int64_t kTile = 1 << 14;  // elements per parallel tile (a multiple of 4)
constexpr int64_t kBlock = 256;     // elements per on-stack mask block

template <typename Fn>
void for_each_tile(int64_t n, Fn&& fn) {
  parallel_for(ceil_div(n, kTile), [&](int64_t tile) {
    const int64_t begin = tile * kTile;
    fn(begin, n - begin < kTile ? n - begin : kTile);
  });
}

// y[i] (+)= keep(i) ? x[i] * scale : 0 over [begin, begin + len).
template <bool kAccumulate>
void apply_mask(float* y, const float* x, int64_t begin, int64_t len, const DropoutSite& drop) {
  float factor[kBlock];
  for (int64_t b = begin; b < begin + len; b += kBlock) {
    const int64_t nb = begin + len - b < kBlock ? begin + len - b : kBlock;
    dropout_factors(factor, drop, b, nb);
    for (int64_t i = 0; i < nb; ++i) {
      const float v = factor[i] != 0.0f ? x[b + i] * factor[i] : 0.0f;
      if constexpr (kAccumulate) {
        y[b + i] += v;
      } else {
        y[b + i] = v;
      }
    }
  }
}

}  // namespace

void residual_forward(float* out, const float* a, const float* b, int64_t n) {
  for_each_tile(n, [&](int64_t begin, int64_t len) {
    for (int64_t i = begin; i < begin + len; ++i) out[i] = a[i] + b[i];
  });
}

void dropout_forward(float* out, const float* inp, int64_t n, const DropoutSite& drop) {
  for_each_tile(n, [&](int64_t begin, int64_t len) {
    if (drop.p == 0.0f) {
      if (out != inp) std::memcpy(out + begin, inp + begin, len * sizeof(float));
    } else {
      apply_mask<false>(out, inp, begin, len, drop);
    }
  });
}

void dropout_backward(float* dinp, const float* dout, int64_t n, const DropoutSite& drop) {
  for_each_tile(n, [&](int64_t begin, int64_t len) {
    if (drop.p == 0.0f) {
      for (int64_t i = begin; i < begin + len; ++i) dinp[i] += dout[i];
    } else {
      apply_mask<true>(dinp, dout, begin, len, drop);
    }
  });
}

}  // namespace cairn::cpu

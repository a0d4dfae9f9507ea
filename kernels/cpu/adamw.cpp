// kernels/cpu/adamw.cpp — adamw_update, and the flat-buffer reductions sumsq_chunks and
// add_inplace used by grad-norm clipping and the canonical gradient tree.
//
// AdamW: the bias corrections 1 - beta^t are computed once in double (std::pow) and rounded
// to float; the per-element math is float, in exactly the order of the formula in
// kernels.h, so every element's result is a pure function of its own inputs.
// sumsq_chunks: each chunk is a double sum of squares in vec::dot_f64's fixed order (element i
// into lane i % 8, lanes combined in a fixed tree): vectorisable, independent of the thread
// count, alignment and vector width; chunks in parallel.
#include <cmath>

#include "core/parallel.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/host_device.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {

constexpr int64_t kTile = 1 << 14;  // elements per parallel tile

template <typename Fn>
void for_each_tile(int64_t n, Fn&& fn) {
  parallel_for(ceil_div(n, kTile), [&](int64_t tile) {
    const int64_t begin = tile * kTile;
    fn(begin, begin + kTile < n ? begin + kTile : n);
  });
}

}  // namespace

void adamw_update(float* params, const float* grads, float* m, float* v, int64_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int64_t t,
                  float grad_scale) {
  const float bias_correction1 = adamw_bias_correction(beta1, t);
  const float bias_correction2 = adamw_bias_correction(beta2, t);
  for_each_tile(n, [&](int64_t begin, int64_t end) {
    // Locals, not the lambda's captured references: the stores below could otherwise alias the
    // captured pointers and scalars, which keeps the compiler from vectorising (the loop ran
    // scalar, ~4x slower). Vector sqrt and division round exactly like scalar ones, and
    // nothing is contracted (-ffp-contract=off), so the bits are the same either way.
    float* __restrict p = params;
    float* __restrict mm = m;
    float* __restrict vv = v;
    const float* __restrict gg = grads;
    const float b1 = beta1, b2 = beta2, bc1 = bias_correction1, bc2 = bias_correction2, e = eps, step = lr,
                wd = weight_decay, scale = grad_scale;
    for (int64_t i = begin; i < end; ++i) {
      adamw_element(p[i], mm[i], vv[i], gg[i], step, b1, b2, e, wd, bc1, bc2, scale);
    }
  });
}

void sumsq_chunks(double* out, const float* x, int64_t n_chunks, int64_t chunk) {
  parallel_for(n_chunks, [&](int64_t c) {
    const float* p = x + c * chunk;
    out[c] = vec::dot_f64(p, p, chunk);
  });
}

void add_inplace(float* a, const float* b, int64_t n) {
  for_each_tile(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) a[i] += b[i];
  });
}

}  // namespace cairn::cpu

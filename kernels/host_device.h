// kernels/host_device.h — formulas and constants the CPU and CUDA kernels must share exactly.
//
// A constant or per-element formula that both backends use is written once here, so the two
// cannot drift apart: the LayerNorm epsilon, the GELU constants, the lane count that fixes
// the order of sumsq_chunks (and of every fixed-lane CPU reduction), and AdamW's per-element
// update. CAIRN_HOST_DEVICE (core/host_device.h) marks a function nvcc compiles for both host
// and device; the C++ compiler sees a plain inline function. Everything here is float math in
// the written order (-ffp-contract=off on the host, --fmad=false in nvcc): the same bits on
// both sides where the kernels promise them (AdamW: yes; kernels/cuda/kernels_cuda.h lists
// the rest).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace cairn {

// LayerNorm: var + eps under the square root (GPT-2's value).
inline constexpr float kLayerNormEps = 1e-5f;

// GELU, tanh approximation: u = kGeluSqrt2OverPi * (x + kGeluCubic * x^3).
inline constexpr float kGeluSqrt2OverPi = 0.7978845608028654f;
inline constexpr float kGeluCubic = 0.044715f;

// Fixed-lane reductions: element i of a reduction goes to lane i % kReductionLanes, lanes
// sum in index order and combine ((0+1)+(2+3))+((4+5)+(6+7)). sumsq_chunks' contract (and
// so the gradient norm's bits) and the CPU's vector_math.h reductions depend on it.
inline constexpr int kReductionLanes = 8;

// AdamW's bias correction 1 - beta^t: computed once per step on the host in double and
// rounded to float, the same on both backends.
inline float adamw_bias_correction(float beta, int64_t t) {
  return float(1.0 - std::pow(double(beta), double(t)));
}

// One element of adamw_update (kernels.h gives the formula): p, m, v updated in place from
// the raw gradient g. Written in the formula's order; sqrtf is IEEE on both sides.
CAIRN_HOST_DEVICE inline void adamw_element(float& p, float& m, float& v, float g_raw, float lr, float beta1,
                                            float beta2, float eps, float weight_decay, float bias_correction1,
                                            float bias_correction2, float grad_scale) {
  const float g = g_raw * grad_scale;
  const float mi = beta1 * m + (1.0f - beta1) * g;
  const float vi = beta2 * v + (1.0f - beta2) * g * g;
  const float m_hat = mi / bias_correction1;
  const float v_hat = vi / bias_correction2;
  p -= lr * (m_hat / (sqrtf(v_hat) + eps) + weight_decay * p);
  m = mi;
  v = vi;
}

}  // namespace cairn

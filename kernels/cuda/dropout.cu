// kernels/cuda/dropout.cu — inverted dropout and the residual add on the GPU:
// dropout_forward/backward, residual_forward.
//
// The mask is kernels/cpu/dropout_mask.h's pure function of (DropoutSite, element index),
// called here on the device (it is CAIRN_HOST_DEVICE): one thread per group of 4 elements
// draws the group's Philox block once. Kept values are x * (1/(1-p)), dropped ones 0 (the
// backward adds that 0, as the CPU does), so masks AND values are bitwise equal to the CPU.
#include "kernels/cpu/dropout_mask.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;

template <bool kAccumulate>
__global__ void dropout_kernel(float* y, const float* x, int64_t n, DropoutSite drop) {
  const float scale = cpu::dropout_scale(drop);
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; g < groups; g += int64_t(gridDim.x) * blockDim.x) {
    const Philox4x32 words = cpu::dropout_group_words(drop, g);
    for (int k = 0; k < 4; ++k) {
      const int64_t e = g * 4 + k;
      if (e >= n) break;
      const float v = uniform_from_u32(words.v[k]) >= drop.p ? x[e] * scale : 0.0f;
      if (kAccumulate) {
        y[e] += v;
      } else {
        y[e] = v;
      }
    }
  }
}

__global__ void add_kernel(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = a[i] + b[i];
}

}  // namespace

void residual_forward(float* out, const float* a, const float* b, int64_t n) {
  add_kernel<<<elementwise_blocks(n, kThreads), kThreads, 0, stream()>>>(out, a, b, n);
  CAIRN_LAUNCH_CHECK();
}

void dropout_forward(float* out, const float* inp, int64_t n, const DropoutSite& drop) {
  if (drop.p == 0.0f) {
    if (out != inp && n) CUDA_CHECK(cudaMemcpyAsync(out, inp, n * sizeof(float), cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  dropout_kernel<false><<<elementwise_blocks((n + 3) / 4, kThreads), kThreads, 0, stream()>>>(out, inp, n, drop);
  CAIRN_LAUNCH_CHECK();
}

void dropout_backward(float* dinp, const float* dout, int64_t n, const DropoutSite& drop) {
  if (drop.p == 0.0f) {
    add_kernel<<<elementwise_blocks(n, kThreads), kThreads, 0, stream()>>>(dinp, dinp, dout, n);
  } else {
    dropout_kernel<true><<<elementwise_blocks((n + 3) / 4, kThreads), kThreads, 0, stream()>>>(dinp, dout, n, drop);
  }
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

// kernels/cuda/swiglu.cu — SwiGLU (silu(gate) * up) on the GPU: swiglu_forward/backward over
// a packed [N, 2F] = [gate | up] input, as kernels/kernels.h.
//
// Element-wise, one thread per output (grid-stride), the CPU's formulas. exp is CUDA's expf,
// not Eigen's pexp, so values agree with the CPU within tolerance, not bitwise.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void swiglu_forward_kernel(float* out, const float* inp, int F, int64_t total) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = e / F, f = e % F;
    const float g = inp[n * 2 * F + f], u = inp[n * 2 * F + F + f];
    const float sig = 1.0f / (1.0f + expf(-g));
    out[e] = g * sig * u;
  }
}

__global__ void swiglu_backward_kernel(float* dinp, const float* dout, const float* inp, int F, int64_t total) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = e / F, f = e % F;
    const int64_t gi = n * 2 * F + f, ui = gi + F;
    const float g = inp[gi], u = inp[ui], dy = dout[e];
    const float sig = 1.0f / (1.0f + expf(-g));
    dinp[gi] += dy * u * (sig * (1.0f + g * (1.0f - sig)));
    dinp[ui] += dy * (g * sig);
  }
}

}  // namespace

void swiglu_forward(float* out, const float* inp, int N, int F) {
  const int64_t total = int64_t(N) * F;
  swiglu_forward_kernel<<<elementwise_blocks(total, kThreads), kThreads, 0, stream()>>>(out, inp, F, total);
  CAIRN_LAUNCH_CHECK();
}

void swiglu_backward(float* dinp, const float* dout, const float* inp, int N, int F) {
  const int64_t total = int64_t(N) * F;
  swiglu_backward_kernel<<<elementwise_blocks(total, kThreads), kThreads, 0, stream()>>>(dinp, dout, inp, F, total);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

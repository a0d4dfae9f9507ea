// kernels/cuda/gelu.cu — GELU, tanh approximation (GPT-2), on the GPU: gelu_forward/backward.
//
//   gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
// Element-wise, one thread per element (grid-stride). tanh is CUDA's tanhf, not Eigen's
// rational approximation, so values agree with the CPU within tolerance, not bitwise.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"
#include "kernels/host_device.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;

__device__ inline float tanh_of_inner(float x) { return tanhf(kGeluSqrt2OverPi * (x + kGeluCubic * x * x * x)); }

__global__ void gelu_forward_kernel(float* out, const float* inp, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float x = inp[i];
    out[i] = 0.5f * x * (1.0f + tanh_of_inner(x));
  }
}

__global__ void gelu_backward_kernel(float* dinp, const float* inp, const float* dout, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float x = inp[i];
    const float th = tanh_of_inner(x);
    const float sech2 = 1.0f - th * th;
    const float du_dx = kGeluSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
    const float grad = 0.5f * (1.0f + th) + 0.5f * x * sech2 * du_dx;
    dinp[i] += grad * dout[i];
  }
}

}  // namespace

void gelu_forward(float* out, const float* inp, int64_t n) {
  gelu_forward_kernel<<<elementwise_blocks(n, kThreads), kThreads, 0, stream()>>>(out, inp, n);
  CAIRN_LAUNCH_CHECK();
}

void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n) {
  gelu_backward_kernel<<<elementwise_blocks(n, kThreads), kThreads, 0, stream()>>>(dinp, inp, dout, n);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

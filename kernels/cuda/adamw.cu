// kernels/cuda/adamw.cu — the optimizer and flat-buffer reductions on the GPU: adamw_update,
// sumsq_chunks, add_inplace (one node of the canonical gradient tree).
//
// adamw_update: the bias corrections are computed once on the host in double and rounded to
// float, exactly as on the CPU; the per-element math follows kernels.h's formula operation by
// operation (no FMA contraction: nvcc runs with --fmad=false; IEEE division and sqrt).
// sumsq_chunks: kernels.h fixes the order — element i of a chunk goes to lane i % 8, each lane
// sums in index order, lanes combine ((0+1)+(2+3))+((4+5)+(6+7)). Here lane l is thread l of
// an 8-thread group per chunk (adjacent threads read adjacent floats), and the xor butterfly
// over offsets 1, 2, 4 is exactly that combine tree: the result is the CPU's, bit for bit.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"
#include "kernels/host_device.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void adamw_kernel(float* params, const float* grads, float* m, float* v, int64_t n, float lr, float beta1,
                             float beta2, float eps, float weight_decay, float bias_correction1,
                             float bias_correction2, float grad_scale) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    adamw_element(params[i], m[i], v[i], grads[i], lr, beta1, beta2, eps, weight_decay, bias_correction1,
                  bias_correction2, grad_scale);
  }
}

constexpr int kLanes = kReductionLanes;  // the contract of sumsq_chunks (kernels/host_device.h)

__global__ void sumsq_chunks_kernel(double* out, const float* x, int64_t n_chunks, int64_t chunk) {
  const int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t c = t / kLanes;
  const int lane = int(t % kLanes);
  // Whole warps stay to the end (the shuffles need every lane); only in-range chunks load.
  double acc = 0.0;
  if (c < n_chunks) {
    const float* p = x + c * chunk;
    for (int64_t i = lane; i < chunk; i += kLanes) acc += double(p[i]) * double(p[i]);
  }
  for (int offset = 1; offset < kLanes; offset <<= 1) acc += __shfl_xor_sync(kFullMask, acc, offset);
  if (c < n_chunks && lane == 0) out[c] = acc;
}

__global__ void add_inplace_kernel(float* a, const float* b, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    a[i] += b[i];
}

}  // namespace

void adamw_update(float* params, const float* grads, float* m, float* v, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int64_t t, float grad_scale) {
  if (n == 0) return;
  const float bias_correction1 = adamw_bias_correction(beta1, t);
  const float bias_correction2 = adamw_bias_correction(beta2, t);
  adamw_kernel<<<elementwise_blocks(n, kThreads), kThreads, 0, stream()>>>(
      params, grads, m, v, n, lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2, grad_scale);
  CAIRN_LAUNCH_CHECK();
}

void sumsq_chunks(double* out, const float* x, int64_t n_chunks, int64_t chunk) {
  if (n_chunks == 0) return;
  sumsq_chunks_kernel<<<int(ceil_div(n_chunks * kLanes, kThreads)), kThreads, 0, stream()>>>(out, x, n_chunks,
                                                                                            chunk);
  CAIRN_LAUNCH_CHECK();
}

void add_inplace(float* a, const float* b, int64_t n) {
  if (n == 0) return;
  add_inplace_kernel<<<elementwise_blocks(n, kThreads), kThreads, 0, stream()>>>(a, b, n);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

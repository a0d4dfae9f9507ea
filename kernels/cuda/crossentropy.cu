// kernels/cuda/crossentropy.cu — fused softmax + cross-entropy over a padded vocabulary on the
// GPU: crossentropy_forward_backward. logits, dlogits [N,Vp]; targets, losses [N].
//
// One block per row. Max over the V real columns (block max: exact in any order); sum of
// exp(x - max) in double per thread over columns j = tid mod blockDim, combined by the
// fixed-order block reduction; loss = log(sum) - (x_target - max) in double, as on the CPU.
// dlogits (if requested) is written, not added: ((e * inv_sum) - [j == target]) * dloss for
// j < V and 0 on the padding [V, Vp). In place over the logits is safe: every thread reads
// x_target and finishes both reductions (which end in __syncthreads) before any write, and
// each thread then reads and writes only its own columns.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 512;

__global__ void crossentropy_kernel(float* losses, float* dlogits, const float* logits, const int32_t* targets,
                                    int V, int Vp, float dloss) {
  __shared__ float shared_max[kWarpSize];
  __shared__ double shared_sum[kWarpSize];
  const int64_t n = blockIdx.x;
  const float* x = logits + n * Vp;
  const int32_t target = targets[n];
  const float x_target = x[target];

  float local_max = -INFINITY;
  for (int j = threadIdx.x; j < V; j += blockDim.x) local_max = fmaxf(local_max, x[j]);
  const float max = block_max(local_max, shared_max);

  double local_sum = 0.0;
  for (int j = threadIdx.x; j < V; j += blockDim.x) local_sum += double(expf(x[j] - max));
  const double sum = block_sum(local_sum, shared_sum);
  if (threadIdx.x == 0) losses[n] = float(log(sum) - (double(x_target) - double(max)));

  if (dlogits) {
    float* d = dlogits + n * Vp;
    const float inv_sum = float(1.0 / sum);
    for (int j = threadIdx.x; j < Vp; j += blockDim.x) {
      float g = 0.0f;
      if (j < V) {
        g = expf(x[j] - max) * inv_sum;
        if (j == target) g -= 1.0f;
        g *= dloss;
      }
      d[j] = g;
    }
  }
}

}  // namespace

void crossentropy_forward_backward(float* losses, float* dlogits, const float* logits, const int32_t* targets, int N,
                                   int V, int Vp, float dloss) {
  if (N == 0) return;
  crossentropy_kernel<<<N, kThreads, 0, stream()>>>(losses, dlogits, logits, targets, V, Vp, dloss);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

// kernels/cuda/rmsnorm.cu — RMSNorm (HF LlamaRMSNorm) on the GPU: rmsnorm_forward/backward.
// inp, out, dout, dinp [N,C]; weight [C]; rstd [N].
//
// As layernorm.cu: one warp per row, each lane summing its columns (c = lane mod 32) in
// double, lanes combined by the fixed butterfly, rounded to float once; the element-wise
// formulas are the CPU's, operation for operation (--fmad=false). dweight reduces over all N
// rows in two passes: chunks of kColumnChunkRows rows in row order (double), then the chunk
// partials in chunk order, then one +=. No atomics.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kRowsPerBlock = 8;  // warps per block, one row each
constexpr int kColThreads = 128;

__global__ void rmsnorm_forward_kernel(float* out, float* rstd, const float* inp, const float* weight, int N,
                                       int C, float eps) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t n = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (n >= N) return;
  const float* x = inp + n * C;
  double sq = 0.0;
  for (int c = lane; c < C; c += kWarpSize) sq += double(x[c]) * double(x[c]);
  const float s = float(1.0 / sqrt(warp_sum(sq) / C + double(eps)));
  float* y = out + n * C;
  for (int c = lane; c < C; c += kWarpSize) y[c] = x[c] * s * weight[c];
  if (lane == 0) rstd[n] = s;
}

// dx += (g - xhat * mean(g * xhat)) * rstd,  g = weight * dout,  one warp per row.
__global__ void rmsnorm_dinp_kernel(float* dinp, const float* dout, const float* inp, const float* weight,
                                    const float* rstd, int N, int C) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t n = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (n >= N) return;
  const float* x = inp + n * C;
  const float* dy = dout + n * C;
  const float s = rstd[n];
  double sum_gx = 0.0;
  for (int c = lane; c < C; c += kWarpSize) sum_gx += double(weight[c] * dy[c]) * double(x[c] * s);
  const float gx_mean = float(warp_sum(sum_gx) / C);
  float* dx = dinp + n * C;
  for (int c = lane; c < C; c += kWarpSize) dx[c] += (weight[c] * dy[c] - x[c] * s * gx_mean) * s;
}

__global__ void rmsnorm_weight_partials(double* part, const float* dout, const float* inp, const float* rstd, int N,
                                        int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const int chunk = blockIdx.y;
  const int r0 = chunk * kColumnChunkRows, r1 = min(N, r0 + kColumnChunkRows);
  double acc = 0.0;
  for (int r = r0; r < r1; ++r) acc += double(dout[int64_t(r) * C + c]) * double(inp[int64_t(r) * C + c] * rstd[r]);
  part[int64_t(chunk) * C + c] = acc;
}

__global__ void rmsnorm_weight_combine(float* dweight, const double* part, int n_chunks, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double w = 0.0;
  for (int k = 0; k < n_chunks; ++k) w += part[int64_t(k) * C + c];
  dweight[c] += float(w);
}

}  // namespace

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N, int C, float eps) {
  rmsnorm_forward_kernel<<<int(ceil_div(N, kRowsPerBlock)), kRowsPerBlock * kWarpSize, 0, stream()>>>(
      out, rstd, inp, weight, N, C, eps);
  CAIRN_LAUNCH_CHECK();
}

void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp, const float* weight,
                      const float* rstd, int N, int C) {
  rmsnorm_dinp_kernel<<<int(ceil_div(N, kRowsPerBlock)), kRowsPerBlock * kWarpSize, 0, stream()>>>(
      dinp, dout, inp, weight, rstd, N, C);
  CAIRN_LAUNCH_CHECK();
  const int n_chunks = int(ceil_div(N, kColumnChunkRows));
  double* part = static_cast<double*>(scratch(kScratchReduce, sizeof(double) * size_t(n_chunks) * C));
  const dim3 grid(unsigned(ceil_div(C, kColThreads)), unsigned(n_chunks));
  rmsnorm_weight_partials<<<grid, kColThreads, 0, stream()>>>(part, dout, inp, rstd, N, C);
  CAIRN_LAUNCH_CHECK();
  rmsnorm_weight_combine<<<int(ceil_div(C, kColThreads)), kColThreads, 0, stream()>>>(dweight, part, n_chunks, C);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

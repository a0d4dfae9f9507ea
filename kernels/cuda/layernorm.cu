// kernels/cuda/layernorm.cu — LayerNorm (eps 1e-5, biased variance) on the GPU:
// layernorm_forward/backward. inp, out, dout, dinp [N,C]; weight, bias [C]; mean, rstd [N].
//
// Row statistics: one warp per row, each lane summing its columns (c = lane mod 32) in
// double, lanes combined by a fixed butterfly; rounded to float once, as on the CPU. The
// element-wise formulas are the CPU's, operation for operation (nvcc runs with --fmad=false).
// dweight/dbias reduce over all N rows: pass 1 sums chunks of kColumnChunkRows rows per
// column in row order (double), pass 2 adds the chunk partials in chunk order, then one +=.
// No atomics: the bits depend only on (N, C) and the inputs.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"
#include "kernels/host_device.h"

namespace cairn::cuda {
namespace {

constexpr int kRowsPerBlock = 8;  // warps per block, one row each
constexpr int kColThreads = 128;

__global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* inp,
                                         const float* weight, const float* bias, int N, int C) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t n = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (n >= N) return;
  const float* x = inp + n * C;
  double sum = 0.0;
  for (int c = lane; c < C; c += kWarpSize) sum += double(x[c]);
  const double mu = warp_sum(sum) / C;
  double sq = 0.0;
  for (int c = lane; c < C; c += kWarpSize) {
    const double d = double(x[c]) - mu;
    sq += d * d;
  }
  const double var = warp_sum(sq) / C;
  const float m = float(mu);
  const float s = float(1.0 / sqrt(var + double(kLayerNormEps)));
  float* y = out + n * C;
  for (int c = lane; c < C; c += kWarpSize) y[c] = (x[c] - m) * s * weight[c] + bias[c];
  if (lane == 0) {
    mean[n] = m;
    rstd[n] = s;
  }
}

// dx += (g - mean(g) - xhat * mean(g * xhat)) * rstd,  g = weight * dout,  one warp per row.
__global__ void layernorm_dinp_kernel(float* dinp, const float* dout, const float* inp, const float* weight,
                                      const float* mean, const float* rstd, int N, int C) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t n = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (n >= N) return;
  const float* x = inp + n * C;
  const float* dy = dout + n * C;
  const float m = mean[n], s = rstd[n];
  double sum_g = 0.0, sum_gx = 0.0;
  for (int c = lane; c < C; c += kWarpSize) {
    const float g = weight[c] * dy[c];
    const float xhat = (x[c] - m) * s;
    sum_g += double(g);
    sum_gx += double(g) * double(xhat);
  }
  const float g_mean = float(warp_sum(sum_g) / C);
  const float gx_mean = float(warp_sum(sum_gx) / C);
  float* dx = dinp + n * C;
  for (int c = lane; c < C; c += kWarpSize) {
    const float g = weight[c] * dy[c];
    const float xhat = (x[c] - m) * s;
    dx[c] += (g - g_mean - xhat * gx_mean) * s;
  }
}

// Pass 1: partial[chunk, c] = sum over the chunk's rows (in order) of dout*xhat and dout.
__global__ void layernorm_param_partials(double* part_w, double* part_b, const float* dout, const float* inp,
                                         const float* mean, const float* rstd, int N, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const int chunk = blockIdx.y;
  const int r0 = chunk * kColumnChunkRows, r1 = min(N, r0 + kColumnChunkRows);
  double acc_w = 0.0, acc_b = 0.0;
  for (int r = r0; r < r1; ++r) {
    const float dy = dout[int64_t(r) * C + c];
    const float xh = (inp[int64_t(r) * C + c] - mean[r]) * rstd[r];
    acc_w += double(dy) * double(xh);
    acc_b += double(dy);
  }
  part_w[int64_t(chunk) * C + c] = acc_w;
  part_b[int64_t(chunk) * C + c] = acc_b;
}

// Pass 2: dweight[c] += sum of the chunk partials in chunk order; likewise dbias.
__global__ void layernorm_param_combine(float* dweight, float* dbias, const double* part_w, const double* part_b,
                                        int n_chunks, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double w = 0.0, b = 0.0;
  for (int k = 0; k < n_chunks; ++k) {
    w += part_w[int64_t(k) * C + c];
    b += part_b[int64_t(k) * C + c];
  }
  dweight[c] += float(w);
  dbias[c] += float(b);
}

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int N, int C) {
  layernorm_forward_kernel<<<int(ceil_div(N, kRowsPerBlock)), kRowsPerBlock * kWarpSize, 0, stream()>>>(
      out, mean, rstd, inp, weight, bias, N, C);
  CAIRN_LAUNCH_CHECK();
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                        const float* weight, const float* mean, const float* rstd, int N, int C) {
  layernorm_dinp_kernel<<<int(ceil_div(N, kRowsPerBlock)), kRowsPerBlock * kWarpSize, 0, stream()>>>(
      dinp, dout, inp, weight, mean, rstd, N, C);
  CAIRN_LAUNCH_CHECK();
  const int n_chunks = int(ceil_div(N, kColumnChunkRows));
  double* part = static_cast<double*>(scratch(kScratchReduce, 2 * sizeof(double) * size_t(n_chunks) * C));
  const dim3 grid(unsigned(ceil_div(C, kColThreads)), unsigned(n_chunks));
  layernorm_param_partials<<<grid, kColThreads, 0, stream()>>>(part, part + size_t(n_chunks) * C, dout, inp, mean,
                                                               rstd, N, C);
  CAIRN_LAUNCH_CHECK();
  layernorm_param_combine<<<int(ceil_div(C, kColThreads)), kColThreads, 0, stream()>>>(
      dweight, dbias, part, part + size_t(n_chunks) * C, n_chunks, C);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

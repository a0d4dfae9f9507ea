// kernels/cuda/matmul.cu — matrix products through cuBLAS: matmul_forward/backward (HF Conv1D
// weight [IC,OC]) and matmul_nt_forward/backward (weight [OC,IC], the tied LM head).
//
// cuBLAS is column-major; a row-major [R,C] matrix is the column-major [C,R] matrix, so each
// row-major product Y = A @ B is issued as Y^T = B^T @ A^T (the comment above each call gives
// the column-major form). Gradients accumulate with beta = 1 (the += convention).
// Reproducibility: cublasSgemm on one handle with a fixed user workspace, atomics disallowed
// and a fixed math mode picks the same kernel for the same shapes every time, so results
// are bitwise repeatable on one GPU model and toolkit (context.h). TF32 only with run.tf32.
// The bias gradient is a deterministic two-pass column sum (common.cuh), no atomics.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kColThreads = 128;

// out[r, :] = bias (or 0): the accumulator the forward product is added to, as on the CPU.
__global__ void fill_rows_kernel(float* out, const float* bias, int64_t N, int OC) {
  const int64_t total = N * OC;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = bias ? bias[i % OC] : 0.0f;
}

__global__ void column_partials_kernel(double* part, const float* x, int N, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const int r0 = blockIdx.y * kColumnChunkRows, r1 = min(N, r0 + kColumnChunkRows);
  double acc = 0.0;
  for (int r = r0; r < r1; ++r) acc += double(x[int64_t(r) * C + c]);
  part[int64_t(blockIdx.y) * C + c] = acc;
}

__global__ void column_combine_kernel(float* out, const double* part, int n_chunks, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double acc = 0.0;
  for (int k = 0; k < n_chunks; ++k) acc += part[int64_t(k) * C + c];
  out[c] += float(acc);
}

// dbias[c] += sum_n dout[n, c]
void bias_backward(float* dbias, const float* dout, int N, int OC) {
  const int n_chunks = int(ceil_div(N, kColumnChunkRows));
  double* part = static_cast<double*>(scratch(kScratchReduce, sizeof(double) * size_t(n_chunks) * OC));
  column_partials_kernel<<<dim3(unsigned(ceil_div(OC, kColThreads)), unsigned(n_chunks)), kColThreads, 0, stream()>>>(
      part, dout, N, OC);
  CAIRN_LAUNCH_CHECK();
  column_combine_kernel<<<int(ceil_div(OC, kColThreads)), kColThreads, 0, stream()>>>(dbias, part, n_chunks, OC);
  CAIRN_LAUNCH_CHECK();
}

// C (m x n, ldc) = alpha * op(A) op(B) + beta * C, column-major.
void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float* A, int lda, const float* B,
          int ldb, float beta, float* C, int ldc) {
  const float alpha = 1.0f;
  CUBLAS_CHECK(cublasSgemm(cublas(), ta, tb, m, n, k, &alpha, A, lda, B, ldb, &beta, C, ldc));
  CAIRN_LAUNCH_CHECK();
}

constexpr cublasOperation_t kN = CUBLAS_OP_N, kT = CUBLAS_OP_T;

}  // namespace

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int N, int IC, int OC) {
  fill_rows_kernel<<<elementwise_blocks(int64_t(N) * OC, kThreads), kThreads, 0, stream()>>>(out, bias, N, OC);
  CAIRN_LAUNCH_CHECK();
  // out^T [OC,N] += W^T [OC,IC] @ inp^T [IC,N]
  gemm(kN, kN, OC, N, IC, weight, OC, inp, IC, 1.0f, out, OC);
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int N, int IC, int OC) {
  // dinp^T [IC,N] += W [IC,OC] @ dout^T [OC,N]
  if (dinp) gemm(kT, kN, IC, N, OC, weight, OC, dout, OC, 1.0f, dinp, IC);
  // dweight^T [OC,IC] += dout^T [OC,N] @ inp [N,IC]
  gemm(kN, kT, OC, IC, N, dout, OC, inp, IC, 1.0f, dweight, OC);
  if (dbias) bias_backward(dbias, dout, N, OC);
}

void matmul_nt_forward(float* out, const float* inp, const float* weight, int N, int IC, int OC) {
  // out^T [OC,N] = W [OC,IC] @ inp^T [IC,N]
  gemm(kT, kN, OC, N, IC, weight, IC, inp, IC, 0.0f, out, OC);
}

void matmul_nt_backward(float* dinp, float* dweight, const float* dout, const float* inp, const float* weight, int N,
                        int IC, int OC) {
  // dinp^T [IC,N] += W^T [IC,OC] @ dout^T [OC,N]
  if (dinp) gemm(kN, kN, IC, N, OC, weight, IC, dout, OC, 1.0f, dinp, IC);
  // dweight^T [IC,OC] += inp^T [IC,N] @ dout [N,OC]
  gemm(kN, kT, IC, OC, N, inp, IC, dout, OC, 1.0f, dweight, IC);
}

}  // namespace cairn::cuda

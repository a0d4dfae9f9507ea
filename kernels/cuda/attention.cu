// kernels/cuda/attention.cu — causal multi-head self-attention on the GPU:
// attention_forward/backward, same layout and semantics as kernels.h (qkv [B,T,3C],
// saved = att [B,NH,T,T] before dropout, out [B,T,C]); n_kv_head must equal n_head here.
//
// A straightforward, correct formulation (as llm.c's attention_forward3): q, k, v are
// permuted to [B,NH,T,hs]; scores and the products with v are strided-batched cuBLAS GEMMs
// over the B*NH heads; a softmax kernel (one warp per row) applies the 1/sqrt(hs) scale, the
// causal mask and writes att, with zeros above the diagonal. Dropout on att reuses
// dropout_forward, whose element index is the index into att: the CPU's counters.
//   backward: dv = D^T dO; dD = dO v^T; dP = dD * F; dS = P (dP - rowsum(dP P)) scale;
//             dq = dS k; dk = dS^T q; then added (+=) into dqkv.
// Full T x T products do twice the causal work; a fused (flash-style) kernel is the next
// step once this one is verified against the CPU. No atomics: GEMMs are reproducible
// (see matmul.cu), row reductions use the fixed warp butterfly.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = 8;  // softmax rows (warps) per block

// [B,T,3,NH,hs] -> q, k, v each [B,NH,T,hs]
__global__ void permute_qkv_kernel(float* q, float* k, float* v, const float* qkv, int B, int T, int NH, int hs) {
  const int64_t total = int64_t(B) * NH * T * hs;
  const int C = NH * hs;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int d = int(i % hs);
    const int t = int((i / hs) % T);
    const int h = int((i / (int64_t(hs) * T)) % NH);
    const int64_t b = i / (int64_t(hs) * T * NH);
    const int64_t src = (b * T + t) * 3 * C + int64_t(h) * hs + d;
    q[i] = qkv[src];
    k[i] = qkv[src + C];
    v[i] = qkv[src + 2 * C];
  }
}

// [B,NH,T,hs] -> [B,T,NH*hs]; kAccumulate adds into dst (the gradient convention).
template <bool kAccumulate>
__global__ void unpermute_kernel(float* dst, int64_t dst_row_stride, const float* src, int B, int T, int NH, int hs) {
  const int64_t total = int64_t(B) * NH * T * hs;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int d = int(i % hs);
    const int t = int((i / hs) % T);
    const int h = int((i / (int64_t(hs) * T)) % NH);
    const int64_t b = i / (int64_t(hs) * T * NH);
    float* out = dst + (b * T + t) * dst_row_stride + int64_t(h) * hs + d;
    if (kAccumulate) {
      *out += src[i];
    } else {
      *out = src[i];
    }
  }
}

// [B,T,C] -> [B,NH,T,hs]
__global__ void permute_heads_kernel(float* dst, const float* src, int B, int T, int NH, int hs) {
  const int64_t total = int64_t(B) * NH * T * hs;
  const int C = NH * hs;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int d = int(i % hs);
    const int t = int((i / hs) % T);
    const int h = int((i / (int64_t(hs) * T)) % NH);
    const int64_t b = i / (int64_t(hs) * T * NH);
    dst[i] = src[(b * T + t) * C + int64_t(h) * hs + d];
  }
}

// Row r of att (query t = r % T): scores * scale over keys <= t, softmax, zeros above.
__global__ void causal_softmax_kernel(float* att, int64_t rows, int T, float scale) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (r >= rows) return;
  const int t = int(r % T), len = t + 1;
  float* row = att + r * T;
  float m = -INFINITY;
  for (int j = lane; j < len; j += kWarpSize) m = fmaxf(m, row[j] * scale);
  m = warp_max(m);
  double sum = 0.0;
  for (int j = lane; j < len; j += kWarpSize) sum += double(expf(row[j] * scale - m));
  const float inv_sum = float(1.0 / warp_sum(sum));
  for (int j = lane; j < T; j += kWarpSize) row[j] = j < len ? expf(row[j] * scale - m) * inv_sum : 0.0f;
}

// In place over dP: dS[j] = P[j] * (dP[j] - sum_k dP[k] P[k]) * scale for j <= t, else 0.
__global__ void softmax_backward_kernel(float* grad, const float* att, int64_t rows, int T, float scale) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (r >= rows) return;
  const int t = int(r % T), len = t + 1;
  float* g = grad + r * T;
  const float* p = att + r * T;
  double dot = 0.0;
  for (int j = lane; j < len; j += kWarpSize) dot += double(g[j]) * double(p[j]);
  const float d = float(warp_sum(dot));
  for (int j = lane; j < T; j += kWarpSize) g[j] = j < len ? p[j] * (g[j] - d) * scale : 0.0f;
}

// Strided-batched column-major GEMM over the B*NH heads (alpha 1).
void batched_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float* A, int lda,
                  int64_t stride_a, const float* Bm, int ldb, int64_t stride_b, float* C, int ldc, int64_t stride_c,
                  int batch) {
  const float alpha = 1.0f, beta = 0.0f;
  CUBLAS_CHECK(cublasSgemmStridedBatched(cublas(), ta, tb, m, n, k, &alpha, A, lda, stride_a, Bm, ldb, stride_b, &beta,
                                         C, ldc, stride_c, batch));
  CAIRN_LAUNCH_CHECK();
}

constexpr cublasOperation_t kN = CUBLAS_OP_N, kT = CUBLAS_OP_T;

// The permutes below assume GPT-2's qkv = [q | k | v] with as many kv heads as query heads.
void check_heads(const AttentionShape& s) {
  CAIRN_CHECK(s.n_kv_head == s.n_head, "[attention] the CUDA kernel has no grouped kv heads yet (n_head ", s.n_head,
              ", n_kv_head ", s.n_kv_head, "): only n_kv_head == n_head");
}

}  // namespace

void attention_forward(float* out, float* att, const float* qkv, const AttentionShape& shape, const DropoutSite& drop) {
  check_heads(shape);
  const int B = shape.B, T = shape.T, NH = shape.n_head, hs = shape.head_size, C = NH * hs, heads = B * NH;
  const int64_t NC = int64_t(B) * T * C, TT = int64_t(T) * T, ths = int64_t(T) * hs;
  const float scale = 1.0f / std::sqrt(float(hs));
  float* q = static_cast<float*>(scratch(kScratchAttnA, 4 * NC * sizeof(float)));
  float* k = q + NC;
  float* v = k + NC;
  float* y = v + NC;
  permute_qkv_kernel<<<elementwise_blocks(NC, kThreads), kThreads, 0, stream()>>>(q, k, v, qkv, B, T, NH, hs);
  CAIRN_LAUNCH_CHECK();
  // scores^T [T_k, T_q] = k [T_k,hs] @ q^T, per head
  batched_gemm(kT, kN, T, T, hs, k, hs, ths, q, hs, ths, att, T, TT, heads);
  const int64_t rows = int64_t(heads) * T;
  causal_softmax_kernel<<<int(ceil_div(rows, kRowsPerBlock)), kRowsPerBlock * kWarpSize, 0, stream()>>>(att, rows, T,
                                                                                                       scale);
  CAIRN_LAUNCH_CHECK();
  const float* probs = att;
  if (drop.p != 0.0f) {
    float* dropped = static_cast<float*>(scratch(kScratchAttnB, rows * T * sizeof(float)));
    dropout_forward(dropped, att, rows * T, drop);
    probs = dropped;
  }
  // y^T [hs, T_q] = v^T [hs, T_k] @ probs^T, per head
  batched_gemm(kN, kN, hs, T, T, v, hs, ths, probs, T, TT, y, hs, ths, heads);
  unpermute_kernel<false><<<elementwise_blocks(NC, kThreads), kThreads, 0, stream()>>>(out, C, y, B, T, NH, hs);
  CAIRN_LAUNCH_CHECK();
}

void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att,
                        const AttentionShape& shape, const DropoutSite& drop) {
  check_heads(shape);
  const int B = shape.B, T = shape.T, NH = shape.n_head, hs = shape.head_size, C = NH * hs, heads = B * NH;
  const int64_t NC = int64_t(B) * T * C, TT = int64_t(T) * T, ths = int64_t(T) * hs;
  const int64_t rows = int64_t(heads) * T;
  const float scale = 1.0f / std::sqrt(float(hs));
  const bool dropout = drop.p != 0.0f;
  float* q = static_cast<float*>(scratch(kScratchAttnA, 4 * NC * sizeof(float)));
  float* k = q + NC;
  float* v = k + NC;
  float* dy = v + NC;
  // grad holds dD/dP/dS; with dropout, the dropped probabilities D follow it.
  float* grad = static_cast<float*>(scratch(kScratchAttnB, (dropout ? 2 : 1) * rows * T * sizeof(float)));
  float* dq = static_cast<float*>(scratch(kScratchAttnC, 3 * NC * sizeof(float)));
  float* dk = dq + NC;
  float* dv = dk + NC;
  permute_qkv_kernel<<<elementwise_blocks(NC, kThreads), kThreads, 0, stream()>>>(q, k, v, qkv, B, T, NH, hs);
  CAIRN_LAUNCH_CHECK();
  permute_heads_kernel<<<elementwise_blocks(NC, kThreads), kThreads, 0, stream()>>>(dy, dout, B, T, NH, hs);
  CAIRN_LAUNCH_CHECK();

  const float* probs = att;
  if (dropout) {
    float* dropped = grad + rows * T;
    dropout_forward(dropped, att, rows * T, drop);
    probs = dropped;
  }
  // dv^T [hs, T_k] = dy^T [hs, T_q] @ probs [T_q, T_k]
  batched_gemm(kN, kT, hs, T, T, dy, hs, ths, probs, T, TT, dv, hs, ths, heads);
  // dD^T [T_k, T_q] = v [T_k, hs] @ dy^T
  batched_gemm(kT, kN, T, T, hs, v, hs, ths, dy, hs, ths, grad, T, TT, heads);
  if (dropout) dropout_forward(grad, grad, rows * T, drop);  // dP = dD * F
  softmax_backward_kernel<<<int(ceil_div(rows, kRowsPerBlock)), kRowsPerBlock * kWarpSize, 0, stream()>>>(
      grad, att, rows, T, scale);
  CAIRN_LAUNCH_CHECK();
  // dq^T [hs, T_q] = k^T [hs, T_k] @ dS^T
  batched_gemm(kN, kN, hs, T, T, k, hs, ths, grad, T, TT, dq, hs, ths, heads);
  // dk^T [hs, T_k] = q^T [hs, T_q] @ dS [T_q, T_k]
  batched_gemm(kN, kT, hs, T, T, q, hs, ths, grad, T, TT, dk, hs, ths, heads);
  const int64_t stride = 3 * int64_t(C);
  const int blocks = elementwise_blocks(NC, kThreads);
  unpermute_kernel<true><<<blocks, kThreads, 0, stream()>>>(dqkv, stride, dq, B, T, NH, hs);
  CAIRN_LAUNCH_CHECK();
  unpermute_kernel<true><<<blocks, kThreads, 0, stream()>>>(dqkv + C, stride, dk, B, T, NH, hs);
  CAIRN_LAUNCH_CHECK();
  unpermute_kernel<true><<<blocks, kThreads, 0, stream()>>>(dqkv + 2 * C, stride, dv, B, T, NH, hs);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

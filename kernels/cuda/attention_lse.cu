// kernels/cuda/attention_lse.cu — causal grouped-query attention on the GPU, saving only the
// row logsumexp: attention_lse_forward/backward (layouts in kernels.h, AttentionShape).
//
// The formulation of attention.cu (llm.c's attention_forward3), with key/value heads repeated
// for their query heads (HF's repeat_kv) when q, k, v are permuted to [B,NH,T,hd]: scores and
// the products with v are strided-batched cuBLAS GEMMs over the B*NH heads; a softmax kernel
// (one warp per row) scales, masks, writes lse = max + log(sum exp(s - max)) (double sum, fixed
// butterfly) and P = exp(s - lse). Backward recomputes the scores with the same GEMM and P
// with the same formula, so it sees forward's P bit for bit. Dropout reuses dropout_forward on
// the [B,NH,T,T] probabilities: attention's counters, as on the CPU.
//   backward: dv = D^T dO; dD = dO v^T; dP = dD * F; dS = P (dP - rowsum(dP P)) scale;
//             dq = dS k; dk = dS^T q, per query head; then dq is added into dqkv and each
//             key/value head adds the sum of its NH/NKV query heads' dk, dv, in head order.
// No atomics: GEMMs are reproducible (matmul.cu), the reductions have shape-only orders.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = 8;  // softmax rows (warps) per block

struct Dims {
  int B, T, NH, NKV, hd;
  __host__ __device__ int rep() const { return NH / NKV; }
  __host__ __device__ int64_t width() const { return int64_t(NH + 2 * NKV) * hd; }
  __host__ __device__ int64_t head_elems() const { return int64_t(B) * NH * T * hd; }  // one [B,NH,T,hd] tensor
};

// Element i of a [B,NH,T,hd] tensor -> (b, h, t, d).
struct HeadIndex {
  int64_t b, t;
  int h, d;
  __device__ HeadIndex(int64_t i, const Dims& s) {
    d = int(i % s.hd);
    t = (i / s.hd) % s.T;
    h = int((i / (int64_t(s.hd) * s.T)) % s.NH);
    b = i / (int64_t(s.hd) * s.T * s.NH);
  }
};

// qkv [B,T,W] -> q, k, v each [B,NH,T,hd]; k and v of head h are those of its key/value head.
__global__ void permute_gqa_kernel(float* q, float* k, float* v, const float* qkv, Dims s) {
  const int64_t total = s.head_elems();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const HeadIndex x(i, s);
    const int g = x.h / s.rep();
    const float* row = qkv + (x.b * s.T + x.t) * s.width();
    q[i] = row[int64_t(x.h) * s.hd + x.d];
    k[i] = row[int64_t(s.NH + g) * s.hd + x.d];
    v[i] = row[int64_t(s.NH + s.NKV + g) * s.hd + x.d];
  }
}

// [B,NH,T,hd] <-> [B,T,NH*hd] (out, dout); kToHeads picks the direction.
template <bool kToHeads>
__global__ void permute_out_kernel(float* dst, const float* src, Dims s) {
  const int64_t total = s.head_elems();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const HeadIndex x(i, s);
    const int64_t flat = (x.b * s.T + x.t) * s.NH * s.hd + int64_t(x.h) * s.hd + x.d;
    if (kToHeads) {
      dst[i] = src[flat];
    } else {
      dst[flat] = src[i];
    }
  }
}

// dqkv += dq for every query column, and for every key/value column the sum over its query
// heads (in head order) of dk_exp / dv_exp. One thread per element of a token's row.
__global__ void accumulate_dqkv_kernel(float* dqkv, const float* dq, const float* dk, const float* dv, Dims s) {
  const int64_t W = s.width(), total = int64_t(s.B) * s.T * W;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t col = i % W, bt = i / W, b = bt / s.T, t = bt % s.T;
    const int head = int(col / s.hd), d = int(col % s.hd);
    auto at = [&](int h) { return ((b * s.NH + h) * s.T + t) * s.hd + d; };
    if (head < s.NH) {
      dqkv[i] += dq[at(head)];
    } else {
      const bool is_k = head < s.NH + s.NKV;
      const int g = is_k ? head - s.NH : head - s.NH - s.NKV;
      const float* src = is_k ? dk : dv;
      float sum = 0.0f;
      for (int r = 0; r < s.rep(); ++r) sum += src[at(g * s.rep() + r)];
      dqkv[i] += sum;
    }
  }
}

// Row r of the scores (query t = r % T): P = exp(s*scale - lse) for keys <= t, zeros above.
// Forward passes lse_out (computed here); backward passes lse_out == nullptr and lse_in.
__global__ void causal_probs_kernel(float* att, float* lse_out, const float* lse_in, int64_t rows, int T,
                                    float scale) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (r >= rows) return;
  const int t = int(r % T), len = t + 1;
  float* row = att + r * T;
  float l;
  if (lse_out) {
    float m = -INFINITY;
    for (int j = lane; j < len; j += kWarpSize) m = fmaxf(m, row[j] * scale);
    m = warp_max(m);
    double sum = 0.0;
    for (int j = lane; j < len; j += kWarpSize) sum += double(expf(row[j] * scale - m));
    l = float(double(m) + log(warp_sum(sum)));
    if (lane == 0) lse_out[r] = l;
  } else {
    l = lse_in[r];
  }
  for (int j = lane; j < T; j += kWarpSize) row[j] = j < len ? expf(row[j] * scale - l) : 0.0f;
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

void batched_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float* A, int lda,
                  int64_t stride_a, const float* Bm, int ldb, int64_t stride_b, float* C, int ldc, int64_t stride_c,
                  int batch) {
  const float alpha = 1.0f, beta = 0.0f;
  CUBLAS_CHECK(cublasSgemmStridedBatched(cublas(), ta, tb, m, n, k, &alpha, A, lda, stride_a, Bm, ldb, stride_b, &beta,
                                         C, ldc, stride_c, batch));
  CAIRN_LAUNCH_CHECK();
}

constexpr cublasOperation_t kN = CUBLAS_OP_N, kT = CUBLAS_OP_T;

// probs [heads, T, T] <- P from the permuted q, k (scores^T [T_k, T_q] = k q^T per head,
// column-major: row-major [T_q, T_k]).
void probs_from_scores(float* probs, float* lse_out, const float* lse_in, const float* q, const float* k,
                       const Dims& s) {
  const int heads = s.B * s.NH;
  const int64_t TT = int64_t(s.T) * s.T, ths = int64_t(s.T) * s.hd, rows = int64_t(heads) * s.T;
  batched_gemm(kT, kN, s.T, s.T, s.hd, k, s.hd, ths, q, s.hd, ths, probs, s.T, TT, heads);
  causal_probs_kernel<<<int(ceil_div(rows, kRowsPerBlock)), kRowsPerBlock * kWarpSize, 0, stream()>>>(
      probs, lse_out, lse_in, rows, s.T, 1.0f / std::sqrt(float(s.hd)));
  CAIRN_LAUNCH_CHECK();
}

}  // namespace

void attention_lse_forward(float* out, float* lse, const float* qkv, const AttentionShape& shape,
                           const DropoutSite& drop) {
  const int B = shape.B, T = shape.T, NH = shape.n_head, hd = shape.head_size;
  const Dims s{B, T, NH, shape.n_kv_head, hd};
  const int heads = B * NH;
  const int64_t E = s.head_elems(), TT = int64_t(T) * T, ths = int64_t(T) * hd, rows = int64_t(heads) * T;
  float* q = static_cast<float*>(scratch(kScratchAttnA, 4 * E * sizeof(float)));
  float* k = q + E;
  float* v = k + E;
  float* y = v + E;
  const int blocks = elementwise_blocks(E, kThreads);
  permute_gqa_kernel<<<blocks, kThreads, 0, stream()>>>(q, k, v, qkv, s);
  CAIRN_LAUNCH_CHECK();
  const bool dropout = drop.p != 0.0f;
  float* probs = static_cast<float*>(scratch(kScratchAttnB, (dropout ? 2 : 1) * rows * T * sizeof(float)));
  probs_from_scores(probs, lse, nullptr, q, k, s);
  const float* used = probs;
  if (dropout) {
    dropout_forward(probs + rows * T, probs, rows * T, drop);
    used = probs + rows * T;
  }
  // y^T [hd, T_q] = v^T [hd, T_k] @ probs^T, per head
  batched_gemm(kN, kN, hd, T, T, v, hd, ths, used, T, TT, y, hd, ths, heads);
  permute_out_kernel<false><<<blocks, kThreads, 0, stream()>>>(out, y, s);
  CAIRN_LAUNCH_CHECK();
}

void attention_lse_backward(float* dqkv, const float* dout, const float* qkv, const float* lse,
                            const AttentionShape& shape, const DropoutSite& drop) {
  const int B = shape.B, T = shape.T, NH = shape.n_head, hd = shape.head_size;
  const Dims s{B, T, NH, shape.n_kv_head, hd};
  const int heads = B * NH;
  const int64_t E = s.head_elems(), TT = int64_t(T) * T, ths = int64_t(T) * hd, rows = int64_t(heads) * T;
  const float scale = 1.0f / std::sqrt(float(hd));
  const bool dropout = drop.p != 0.0f;
  float* q = static_cast<float*>(scratch(kScratchAttnA, 4 * E * sizeof(float)));
  float* k = q + E;
  float* v = k + E;
  float* dy = v + E;
  // P, then dD/dP/dS, then (dropout) D
  float* probs = static_cast<float*>(scratch(kScratchAttnB, (dropout ? 3 : 2) * rows * T * sizeof(float)));
  float* grad = probs + rows * T;
  float* dq = static_cast<float*>(scratch(kScratchAttnC, 3 * E * sizeof(float)));
  float* dk = dq + E;
  float* dv = dk + E;
  const int blocks = elementwise_blocks(E, kThreads);
  permute_gqa_kernel<<<blocks, kThreads, 0, stream()>>>(q, k, v, qkv, s);
  CAIRN_LAUNCH_CHECK();
  permute_out_kernel<true><<<blocks, kThreads, 0, stream()>>>(dy, dout, s);
  CAIRN_LAUNCH_CHECK();
  probs_from_scores(probs, nullptr, lse, q, k, s);

  const float* used = probs;
  if (dropout) {
    dropout_forward(grad + rows * T, probs, rows * T, drop);
    used = grad + rows * T;
  }
  // dv^T [hd, T_k] = dy^T [hd, T_q] @ D [T_q, T_k]
  batched_gemm(kN, kT, hd, T, T, dy, hd, ths, used, T, TT, dv, hd, ths, heads);
  // dD^T [T_k, T_q] = v [T_k, hd] @ dy^T
  batched_gemm(kT, kN, T, T, hd, v, hd, ths, dy, hd, ths, grad, T, TT, heads);
  if (dropout) dropout_forward(grad, grad, rows * T, drop);  // dP = dD * F
  softmax_backward_kernel<<<int(ceil_div(rows, kRowsPerBlock)), kRowsPerBlock * kWarpSize, 0, stream()>>>(
      grad, probs, rows, T, scale);
  CAIRN_LAUNCH_CHECK();
  // dq^T [hd, T_q] = k^T [hd, T_k] @ dS^T
  batched_gemm(kN, kN, hd, T, T, k, hd, ths, grad, T, TT, dq, hd, ths, heads);
  // dk^T [hd, T_k] = q^T [hd, T_q] @ dS [T_q, T_k]
  batched_gemm(kN, kT, hd, T, T, q, hd, ths, grad, T, TT, dk, hd, ths, heads);
  const int64_t total = int64_t(B) * T * s.width();
  accumulate_dqkv_kernel<<<elementwise_blocks(total, kThreads), kThreads, 0, stream()>>>(dqkv, dq, dk, dv, s);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

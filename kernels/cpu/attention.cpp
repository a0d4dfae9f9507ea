// kernels/cpu/attention.cpp — causal self-attention with grouped kv heads (kernels.h's
// AttentionShape): attention_forward/backward. `saved` holds the probabilities P.
//
// Work is cut by (sequence b, head h) and, inside, by fixed chunks of kQueryChunk queries.
// A chunk [q0, q1) only needs keys [0, q1): its scores, the att@v product and all backward
// products are single-threaded gemm() calls on strided views of qkv/att (gemm.h); the
// few entries of those blocks above the diagonal are exact zeros in att.
//   forward:  tile = (b, h, chunk); rows are independent, so chunks run in parallel.
//   backward: tile = (b, kv head); its query heads, then their chunks, run in order,
//             because every chunk of every head of the group adds into the same dk and dv
//             rows: the accumulation order is then fixed by the shape. (With as many kv
//             heads as query heads, a tile is one (b, h), as it always was for GPT-2.)
// Softmax is max-subtracted with exps from vector_math.h and row sums in double; att is
// stored before dropout. Dropout (dropout_mask.h, element = index into att) is applied to a
// scratch copy of the chunk and regenerated in backward. Scratch memory is O(chunk * T) per
// tile, never O(T^2 * C).
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/dropout_mask.h"
#include "core/parallel.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {

constexpr int64_t kQueryChunk = 64;

// Strided views of one (b, h): the head's q columns of qkv, its kv head's k and v columns,
// its [T, T] att block and its out columns.
struct HeadViews {
  int64_t T, hs, qkv_stride, out_stride;
  int64_t q_off, k_off, v_off;  // offsets of row 0 of q, k, v in qkv (or dqkv)
  int64_t att_off;              // offset of att[b, h, 0, 0]
  int64_t out_off;              // offset of out[b, 0, h*hs]

  HeadViews(int64_t b, int64_t h, const AttentionShape& s)
      : T(s.T), hs(s.head_size), qkv_stride(s.qkv_width()), out_stride(s.q_width()) {
    const int64_t NH = s.n_head, NKV = s.n_kv_head, kvh = h / (NH / NKV);
    const int64_t row0 = b * T * qkv_stride;
    q_off = row0 + h * hs;
    k_off = row0 + (NH + kvh) * hs;
    v_off = row0 + (NH + NKV + kvh) * hs;
    att_off = (b * NH + h) * T * T;
    out_off = b * T * out_stride + h * hs;
  }
};

// factor[i * kend + j] = dropout multiplier of att[b, h, q0 + i, j] for the chunk's rows.
void chunk_dropout_factors(float* factor, const DropoutSite& drop, const HeadViews& hv,
                           int64_t q0, int64_t nq, int64_t kend) {
  for (int64_t i = 0; i < nq; ++i)
    dropout_factors(factor + i * kend, drop, hv.att_off + (q0 + i) * hv.T, kend);
}

// dropped[i, j] = factor[i, j] != 0 ? att[i, j] * factor[i, j] : 0
void apply_factors(float* dropped, const float* att_rows, int64_t att_stride,
                   const float* factor, int64_t nq, int64_t kend) {
  for (int64_t i = 0; i < nq; ++i) {
    const float* a = att_rows + i * att_stride;
    const float* f = factor + i * kend;
    float* d = dropped + i * kend;
    for (int64_t j = 0; j < kend; ++j) d[j] = f[j] != 0.0f ? a[j] * f[j] : 0.0f;
  }
}

// Scores of row t (length t+1) -> softmax in place; entries (t, T) of the row set to 0.
void softmax_row(float* row, int64_t t, int64_t T, float scale) {
  const int64_t len = t + 1;
  for (int64_t j = 0; j < len; ++j) row[j] *= scale;
  const float max = vec::max_f32(row, len);
  vec::exp_shifted(row, row, len, max);
  const float inv_sum = float(1.0 / vec::sum_f64(row, len));
  for (int64_t j = 0; j < len; ++j) row[j] *= inv_sum;
  std::memset(row + len, 0, (T - len) * sizeof(float));
}

// Per-thread scratch that only grows, so tiles do not pay for a fresh allocation (large
// ones are mmap-ed and page-faulted in). Every use fully overwrites what it reads.
float* scratch(int slot, int64_t n) {
  thread_local std::vector<float> buffers[3];
  if (int64_t(buffers[slot].size()) < n) buffers[slot].resize(n);
  return buffers[slot].data();
}

}  // namespace

void attention_forward(float* out, float* att, const float* qkv, const AttentionShape& shape,
                       const DropoutSite& drop) {
  const int64_t T = shape.T, NH = shape.n_head, hs = shape.head_size, C = shape.q_width();
  const float scale = 1.0f / std::sqrt(float(hs));
  const int64_t n_chunks = ceil_div(T, kQueryChunk);
  parallel_for(shape.B * NH * n_chunks, [&](int64_t tile) {
    const int64_t bh = tile / n_chunks, b = bh / NH, h = bh % NH;
    const HeadViews hv(b, h, shape);
    const int64_t q0 = (tile % n_chunks) * kQueryChunk;
    const int64_t nq = T - q0 < kQueryChunk ? T - q0 : kQueryChunk;
    const int64_t kend = q0 + nq;  // keys this chunk can see

    const float* q = qkv + hv.q_off + q0 * hv.qkv_stride;
    const float* k = qkv + hv.k_off;
    const float* v = qkv + hv.v_off;
    const int64_t ld = hv.qkv_stride;
    float* att_rows = att + hv.att_off + q0 * T;
    gemm(Trans::kNo, Trans::kYes, nq, kend, hs, q, ld, k, ld, 0.0f, att_rows, T);  // scores = q k^T
    for (int64_t i = 0; i < nq; ++i) softmax_row(att_rows + i * T, q0 + i, T, scale);

    float* y = out + hv.out_off + q0 * C;
    if (drop.p == 0.0f) {
      gemm(Trans::kNo, Trans::kNo, nq, hs, kend, att_rows, T, v, ld, 0.0f, y, C);  // y = att v
    } else {
      float* factor = scratch(0, nq * kend);
      float* dropped = scratch(1, nq * kend);
      chunk_dropout_factors(factor, drop, hv, q0, nq, kend);
      apply_factors(dropped, att_rows, T, factor, nq, kend);
      gemm(Trans::kNo, Trans::kNo, nq, hs, kend, dropped, kend, v, ld, 0.0f, y, C);
    }
  });
}

// With P = att (softmax), F = dropout factors, D = P * F, out = D @ v:
//   dv += D^T @ dout;  dD = dout @ v^T;  dP = dD * F;
//   dS = P * (dP - rowsum(dP * P)) * scale;  dq += dS @ k;  dk += dS^T @ q.
void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att,
                        const AttentionShape& shape, const DropoutSite& drop) {
  const int64_t T = shape.T, NH = shape.n_head, NKV = shape.n_kv_head, hs = shape.head_size;
  const int64_t C = shape.q_width(), group = NH / NKV;
  const float scale = 1.0f / std::sqrt(float(hs));
  const bool dropout = drop.p != 0.0f;
  parallel_for(shape.B * NKV, [&](int64_t tile) {
    const int64_t b = tile / NKV, kvh = tile % NKV;
    const int64_t chunk_size = kQueryChunk * int64_t(T);
    float* grad = scratch(0, chunk_size);
    float* factor = dropout ? scratch(1, chunk_size) : nullptr;
    float* dropped = dropout ? scratch(2, chunk_size) : nullptr;

    for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
      const HeadViews hv(b, h, shape);
      for (int64_t q0 = 0; q0 < T; q0 += kQueryChunk) {
        const int64_t nq = T - q0 < kQueryChunk ? T - q0 : kQueryChunk;
        const int64_t kend = q0 + nq;
        const float* att_rows = att + hv.att_off + q0 * T;
        const int64_t ld = hv.qkv_stride;
        const float* q = qkv + hv.q_off + q0 * ld;
        const float* k = qkv + hv.k_off;
        const float* v = qkv + hv.v_off;
        const float* dy = dout + hv.out_off + q0 * C;
        float* dq = dqkv + hv.q_off + q0 * ld;
        float* dk = dqkv + hv.k_off;
        float* dv = dqkv + hv.v_off;

        if (dropout) {  // dv += D^T dy
          chunk_dropout_factors(factor, drop, hv, q0, nq, kend);
          apply_factors(dropped, att_rows, T, factor, nq, kend);
          gemm(Trans::kYes, Trans::kNo, kend, hs, nq, dropped, kend, dy, C, 1.0f, dv, ld);
        } else {
          gemm(Trans::kYes, Trans::kNo, kend, hs, nq, att_rows, T, dy, C, 1.0f, dv, ld);
        }

        gemm(Trans::kNo, Trans::kYes, nq, kend, hs, dy, C, v, ld, 0.0f, grad, kend);  // dD = dy v^T
        for (int64_t i = 0; i < nq; ++i) {
          const int64_t len = q0 + i + 1;
          const float* p = att_rows + i * T;
          float* gi = grad + i * kend;
          if (dropout) {
            const float* f = factor + i * kend;
            for (int64_t j = 0; j < len; ++j) gi[j] = f[j] != 0.0f ? gi[j] * f[j] : 0.0f;
          }
          const float dot = float(vec::dot_f64(gi, p, len));
          for (int64_t j = 0; j < len; ++j) gi[j] = p[j] * (gi[j] - dot) * scale;
          std::memset(gi + len, 0, (kend - len) * sizeof(float));
        }
        gemm(Trans::kNo, Trans::kNo, nq, hs, kend, grad, kend, k, ld, 1.0f, dq, ld);   // dq += dS k
        gemm(Trans::kYes, Trans::kNo, kend, hs, nq, grad, kend, q, ld, 1.0f, dk, ld);  // dk += dS^T q
      }
    }
  });
}

}  // namespace cairn::cpu

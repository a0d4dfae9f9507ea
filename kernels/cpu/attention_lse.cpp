// kernels/cpu/attention_lse.cpp — causal grouped-query self-attention that saves only the
// row logsumexp: attention_lse_forward/backward (layouts in kernels.h, AttentionShape).
//
// As attention.cpp, work is cut by (sequence, head) and fixed chunks of kQueryChunk queries;
// a chunk [q0, q1) sees keys [0, q1) and all its products are single-threaded gemm() calls on
// strided views of qkv (gemm.h).
//   forward:  tile = (b, h, chunk), independent rows. Scores are scaled, lse = max +
//             log(sum exp(s - max)) (sum in double over fixed lanes), then P = exp(s - lse).
//   backward: tile = (b, key/value head g). It walks the query heads of its group in head
//             order and each head's chunks in order, recomputing P = exp(s - lse) exactly as
//             forward did (same gemm shapes, same formula: the same bits), and adds into
//             dk/dv of head g and dq of those heads, which no other tile touches. So the
//             order of every accumulation is fixed by the shape alone.
// Dropout multiplies P by attention's mask factors (dropout_mask.h, element = index into the
// virtual att [B,NH,T,T]), regenerated in backward.
#include <cmath>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/dropout_mask.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {

constexpr int64_t kQueryChunk = 64;

// Strided views of one (b, h) in the packed qkv and in out.
struct GqaViews {
  int64_t T, hd, ld, out_ld;
  int64_t q_off, k_off, v_off;  // row 0 of query head h and its key/value head
  int64_t out_off;              // out[b, 0, h*hd]
  int64_t row_off;              // (b*NH + h) * T: lse row 0; times T: virtual att offset

  GqaViews(int64_t b, int64_t h, int64_t T_, int64_t NH, int64_t NKV, int64_t hd_)
      : T(T_), hd(hd_), ld((NH + 2 * NKV) * hd_), out_ld(NH * hd_) {
    const int64_t g = h / (NH / NKV);
    q_off = b * T * ld + h * hd;
    k_off = b * T * ld + (NH + g) * hd;
    v_off = b * T * ld + (NH + NKV + g) * hd;
    out_off = b * T * out_ld + h * hd;
    row_off = (b * NH + h) * T;
  }
};

// Per-thread scratch that only grows; every use fully overwrites what it reads.
float* scratch(int slot, int64_t n) {
  thread_local std::vector<float> buffers[4];
  if (int64_t(buffers[slot].size()) < n) buffers[slot].resize(n);
  return buffers[slot].data();
}

// probs [nq, kend] <- P of the chunk's rows from q and k. Forward passes lse_out and the rows'
// lse is computed into it; backward passes lse_out == nullptr and reads lse_in.
// Row i (query t = q0 + i) has t + 1 real entries; the rest are set to 0.
void chunk_probs(float* probs, float* lse_out, const float* lse_in, const float* qkv,
                 const GqaViews& v, int64_t q0, int64_t nq, float scale) {
  const int64_t kend = q0 + nq;
  gemm(Trans::kNo, Trans::kYes, nq, kend, v.hd, qkv + v.q_off + q0 * v.ld, v.ld, qkv + v.k_off, v.ld,
       0.0f, probs, kend);
  for (int64_t i = 0; i < nq; ++i) {
    float* row = probs + i * kend;
    const int64_t len = q0 + i + 1;
    for (int64_t j = 0; j < len; ++j) row[j] *= scale;
    if (lse_out) {
      const float max = vec::max_f32(row, len);
      float* e = scratch(3, len);
      vec::exp_shifted(e, row, len, max);
      lse_out[i] = float(double(max) + std::log(vec::sum_f64(e, len)));
    }
    vec::exp_shifted(row, row, len, lse_out ? lse_out[i] : lse_in[i]);
    std::memset(row + len, 0, (kend - len) * sizeof(float));
  }
}

// factor [nq, kend]: dropout multipliers of the chunk's rows (virtual att elements).
void chunk_factors(float* factor, const DropoutSite& drop, const GqaViews& v, int64_t q0, int64_t nq) {
  const int64_t kend = q0 + nq;
  for (int64_t i = 0; i < nq; ++i) dropout_factors(factor + i * kend, drop, (v.row_off + q0 + i) * v.T, kend);
}

void apply_factors(float* x, const float* factor, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = factor[i] != 0.0f ? x[i] * factor[i] : 0.0f;
}

}  // namespace

void attention_lse_forward(float* out, float* lse, const float* qkv, const AttentionShape& shape,
                           const DropoutSite& drop) {
  const int B = shape.B, T = shape.T, NH = shape.n_head, NKV = shape.n_kv_head, hd = shape.head_size;
  const float scale = 1.0f / std::sqrt(float(hd));
  const int64_t n_chunks = ceil_div(T, kQueryChunk);
  parallel_for(int64_t(B) * NH * n_chunks, [&](int64_t tile) {
    const int64_t bh = tile / n_chunks;
    const GqaViews v(bh / NH, bh % NH, T, NH, NKV, hd);
    const int64_t q0 = (tile % n_chunks) * kQueryChunk;
    const int64_t nq = T - q0 < kQueryChunk ? T - q0 : kQueryChunk;
    const int64_t kend = q0 + nq;
    float* probs = scratch(0, nq * kend);
    chunk_probs(probs, lse + v.row_off + q0, nullptr, qkv, v, q0, nq, scale);
    if (drop.p != 0.0f) {
      float* factor = scratch(1, nq * kend);
      chunk_factors(factor, drop, v, q0, nq);
      apply_factors(probs, factor, nq * kend);
    }
    gemm(Trans::kNo, Trans::kNo, nq, hd, kend, probs, kend, qkv + v.v_off, v.ld, 0.0f,
         out + v.out_off + q0 * v.out_ld, v.out_ld);  // y = D v
  });
}

// With P = softmax, F = dropout factors, D = P * F, out = D @ v:
//   dv += D^T @ dout;  dD = dout @ v^T;  dP = dD * F;
//   dS = P * (dP - rowsum(dP * P)) * scale;  dq += dS @ k;  dk += dS^T @ q.
void attention_lse_backward(float* dqkv, const float* dout, const float* qkv, const float* lse,
                            const AttentionShape& shape, const DropoutSite& drop) {
  const int B = shape.B, T = shape.T, NH = shape.n_head, NKV = shape.n_kv_head, hd = shape.head_size;
  const float scale = 1.0f / std::sqrt(float(hd));
  const bool dropout = drop.p != 0.0f;
  const int rep = NH / NKV;
  parallel_for(int64_t(B) * NKV, [&](int64_t bg) {
    const int64_t b = bg / NKV, g = bg % NKV;
    const int64_t chunk_size = kQueryChunk * int64_t(T);
    float* probs = scratch(0, chunk_size);
    float* factor = dropout ? scratch(1, chunk_size) : nullptr;
    float* grad = scratch(2, chunk_size);
    for (int64_t h = g * rep; h < (g + 1) * rep; ++h) {
      const GqaViews v(b, h, T, NH, NKV, hd);
      for (int64_t q0 = 0; q0 < T; q0 += kQueryChunk) {
        const int64_t nq = T - q0 < kQueryChunk ? T - q0 : kQueryChunk;
        const int64_t kend = q0 + nq;
        chunk_probs(probs, nullptr, lse + v.row_off + q0, qkv, v, q0, nq, scale);
        const float* dy = dout + v.out_off + q0 * v.out_ld;
        const float* k = qkv + v.k_off;
        const float* vv = qkv + v.v_off;
        if (dropout) {  // grad temporarily holds D = P * F
          chunk_factors(factor, drop, v, q0, nq);
          std::memcpy(grad, probs, nq * kend * sizeof(float));
          apply_factors(grad, factor, nq * kend);
        }
        gemm(Trans::kYes, Trans::kNo, kend, hd, nq, dropout ? grad : probs, kend, dy, v.out_ld, 1.0f,
             dqkv + v.v_off, v.ld);  // dv += D^T dy
        gemm(Trans::kNo, Trans::kYes, nq, kend, hd, dy, v.out_ld, vv, v.ld, 0.0f, grad, kend);  // dD = dy v^T
        for (int64_t i = 0; i < nq; ++i) {
          const int64_t len = q0 + i + 1;
          const float* p = probs + i * kend;
          float* gi = grad + i * kend;
          if (dropout) apply_factors(gi, factor + i * kend, len);
          const float dot = float(vec::dot_f64(gi, p, len));
          for (int64_t j = 0; j < len; ++j) gi[j] = p[j] * (gi[j] - dot) * scale;
          std::memset(gi + len, 0, (kend - len) * sizeof(float));
        }
        gemm(Trans::kNo, Trans::kNo, nq, hd, kend, grad, kend, k, v.ld, 1.0f, dqkv + v.q_off + q0 * v.ld,
             v.ld);  // dq += dS k
        gemm(Trans::kYes, Trans::kNo, kend, hd, nq, grad, kend, qkv + v.q_off + q0 * v.ld, v.ld, 1.0f,
             dqkv + v.k_off, v.ld);  // dk += dS^T q
      }
    }
  });
}

}  // namespace cairn::cpu

// kernels/kernels.h — every numeric op cairn's model and optimizer use: the op list.
//
// The CPU implementations live in kernels/cpu/ (namespace cairn::cpu); the CUDA ones in
// kernels/cuda/ carry the same names in namespace cairn::cuda with device pointers. Both
// sets of declarations are expanded from CAIRN_OPS below.
//
// Shapes: B sequences per micro-batch, T positions, C channels, NH heads (C % NH == 0),
// N = B*T rows, V real vocabulary, Vp padded vocabulary (V <= Vp). All tensors are dense,
// row-major fp32 unless stated otherwise.
//
// Conventions every kernel keeps:
//  * Backward kernels ADD into their gradient outputs (+=), like llm.c: the caller zeroes
//    gradient buffers once per micro-batch, and a tensor used twice (tied embeddings,
//    residual branches) simply receives two contributions in a fixed order.
//  * Deterministic and thread-count invariant (see core/parallel.h): the same bits for any
//    OMP_NUM_THREADS. No reduction order depends on the number of threads.
//  * Inputs are validated by the caller (the model); kernels assume valid shapes.
#pragma once

#include <cstdint>

namespace cairn {

// Where a dropout mask comes from: Philox keyed by (seed, kDropout), counter built from
// (step, global micro-batch index, site, element). `site` distinguishes the dropout sites
// of one forward (layer * 8 + position in the layer). p == 0 means no dropout.
struct DropoutSite {
  float p = 0.0f;
  uint64_t seed = 0;
  uint64_t step = 0;         // 64-bit: a mask never repeats across steps (core/philox.h draw_wide)
  uint32_t micro_batch = 0;  // global index within the step, in [0, G)
  uint32_t site = 0;
};

// Causal self-attention with grouped key/value heads (GQA; n_kv_head == n_head is GPT-2's
// multi-head attention). hs = head_size.
//   qkv [B, T, qkv_width()]: per token q = columns [0, n_head*hs), k = the next n_kv_head*hs,
//     v = the last n_kv_head*hs; query head h uses columns [h*hs, (h+1)*hs) of q and kv head
//     h / (n_head / n_kv_head) of k and v (for GPT-2 the HF split qkv = [q | k | v], each C).
//   out [B, T, n_head*hs] = dropout(P) @ v, heads concatenated, where
//     P = softmax(q.k / sqrt(hs)) over keys <= query. The dropout mask is regenerated in
//     backward from `drop` (counter element = index into a [B, n_head, T, T] array).
//   saved: what forward keeps for backward, attention_saved_floats(shape) floats, opaque to
//     the caller (only attention_backward reads it). The fp32 kernels keep P itself
//     ([B, n_head, T, T], before dropout), so backward recomputes nothing and the bits are
//     those GPT-2 training has always had. The contract leaves room for a flash-style kernel
//     that keeps one logsumexp per (b, h, t) — B*n_head*T floats instead of B*n_head*T*T —
//     and recomputes P tile by tile in backward from q, k and it; such a kernel gives
//     different bits unless its recompute repeats forward's arithmetic exactly, so it comes
//     as its own op or a per-table saved size, never silently under this one.
struct AttentionShape {
  int B = 0, T = 0;
  int n_head = 0;     // query heads
  int n_kv_head = 0;  // key/value heads; divides n_head
  int head_size = 0;
  int64_t q_width() const { return int64_t(n_head) * head_size; }
  int64_t qkv_width() const { return int64_t(n_head + 2 * n_kv_head) * head_size; }
};
// GPT-2's attention: C channels in NH heads, as many key/value heads as query heads.
inline AttentionShape mha_shape(int B, int T, int C, int NH) { return {B, T, NH, NH, C / NH}; }
inline int64_t attention_saved_floats(const AttentionShape& s) { return int64_t(s.B) * s.n_head * s.T * s.T; }

// ---- the op list --------------------------------------------------------------------------
// CAIRN_OPS(X) expands X(name, (parameters)) once per op; every op returns void. It is the
// only place an op's signature is written: the cairn::cpu and cairn::cuda declarations, the
// KernelOps fields and both tables (filled by name), the profiler's names and the table tests
// are all expanded from it. To add an op: add an entry here (with its formula and shapes),
// define cpu::name in kernels/cpu/ and cuda::name in kernels/cuda/ (a link error names the
// one that is missing), and add cases to tests/kernels/op_cases.cpp. See kernels/ops.h.
//
// dtype: every tensor is fp32 today. A second dtype is a second entry whose name says it
// (`gelu_forward_bf16`, taking `const bf16*`), so the fp32 CPU reference stays the oracle
// for the other dtype's CUDA kernel and the op test registry's cases carry the dtype.
#define CAIRN_OPS(X)                                                                              \
  /* ---- embedding ----                                                                       \
     out[b,t,:] = wte[tokens[b,t], :] + wpe[t, :]         wte [Vp,C], wpe [>=T,C], out [B,T,C] */ \
  X(encoder_forward, (float* out, const int32_t* tokens, const float* wte, const float* wpe,      \
                      int B, int T, int C))                                                       \
  /* dwte[tokens[b,t], :] += dout[b,t,:];  dwpe[t,:] += dout[b,t,:] */                            \
  X(encoder_backward, (float* dwte, float* dwpe, const float* dout, const int32_t* tokens,        \
                       int B, int T, int C))                                                      \
  /* ---- layernorm (eps = kLayerNormEps in host_device.h, biased variance, as GPT-2) ----   \
     out[n,:] = (inp[n,:] - mean[n]) * rstd[n] * weight + bias;  mean, rstd [N] kept for      \
     backward */                                                                                  \
  X(layernorm_forward, (float* out, float* mean, float* rstd, const float* inp,                   \
                        const float* weight, const float* bias, int N, int C))                    \
  X(layernorm_backward, (float* dinp, float* dweight, float* dbias, const float* dout,            \
                         const float* inp, const float* weight, const float* mean,                \
                         const float* rstd, int N, int C))                                        \
  /* ---- matmul, HF Conv1D layout ----                                                       \
     out[N,OC] = inp[N,IC] @ weight[IC,OC] + bias[OC]   (bias may be nullptr) */                  \
  X(matmul_forward, (float* out, const float* inp, const float* weight, const float* bias,        \
                     int N, int IC, int OC))                                                      \
  /* dinp[N,IC] += dout @ weight^T;  dweight[IC,OC] += inp^T @ dout;  dbias[OC] += sum_n dout  \
     (dinp and dbias may be nullptr) */                                                           \
  X(matmul_backward, (float* dinp, float* dweight, float* dbias, const float* dout,               \
                      const float* inp, const float* weight, int N, int IC, int OC))              \
  /* ---- matmul with the weight stored [OC,IC] (the tied LM head: logits = x @ wte^T) ----   \
     out[N,OC] = inp[N,IC] @ weight[OC,IC]^T */                                                   \
  X(matmul_nt_forward, (float* out, const float* inp, const float* weight, int N, int IC, int OC)) \
  /* dinp[N,IC] += dout @ weight;  dweight[OC,IC] += dout^T @ inp */                              \
  X(matmul_nt_backward, (float* dinp, float* dweight, const float* dout, const float* inp,        \
                         const float* weight, int N, int IC, int OC))                             \
  /* ---- causal self-attention: AttentionShape above gives the layouts ---- */               \
  X(attention_forward, (float* out, float* saved, const float* qkv, const AttentionShape& shape,  \
                        const DropoutSite& drop))                                                 \
  /* dqkv [B,T,qkv_width] += gradient of out w.r.t. qkv; saved is forward's */                   \
  X(attention_backward, (float* dqkv, const float* dout, const float* qkv, const float* saved,    \
                         const AttentionShape& shape, const DropoutSite& drop))                   \
  /* ---- causal self-attention keeping only the row logsumexp (Llama family) ----          \
     Same layouts, GQA head mapping and dropout counters as attention_forward; saves          \
     lse [B, n_head, T] (log sum_j exp(s_j), s = q.k / sqrt(hs)) instead of P, and computes   \
     P = exp(s - lse) in forward AND in backward, from the same scores, so backward sees       \
     forward's bits while memory is O(T) per head. Backward: dqkv +=; a kv head's dk, dv     \
     collect its query heads in head order. */                                                   \
  X(attention_lse_forward, (float* out, float* lse, const float* qkv,                             \
                            const AttentionShape& shape, const DropoutSite& drop))                \
  X(attention_lse_backward, (float* dqkv, const float* dout, const float* qkv, const float* lse,  \
                             const AttentionShape& shape, const DropoutSite& drop))               \
  /* ---- RMSNorm (HF LlamaRMSNorm) ----                                                       \
     out[n,c] = (inp[n,c] * rstd[n]) * weight[c],  rstd = 1/sqrt(mean_c(inp[n,c]^2) + eps);     \
     rstd [N] kept. backward: dinp += rstd * (g - xhat * mean(g * xhat)), g = weight * dout,    \
     xhat = inp * rstd;  dweight[c] += sum_n dout * xhat */                                        \
  X(rmsnorm_forward, (float* out, float* rstd, const float* inp, const float* weight, int N,      \
                      int C, float eps))                                                          \
  X(rmsnorm_backward, (float* dinp, float* dweight, const float* dout, const float* inp,          \
                       const float* weight, const float* rstd, int N, int C))                     \
  /* ---- rotary position embeddings, HF's rotate_half pairs (i, i + hd/2) ----              \
     Rotates H heads of hd at the start of each row of a [B*T, ld] tensor (ld >= H*hd;        \
     columns past H*hd untouched: q and k of a packed qkv in one call). Row b*T + t is at      \
     position t; cos, sin [>=T, hd/2] from rope_table (below), on the table's device:          \
       out[i] = x[i]*cos[t,i] + (-x[i+hd/2])*sin[t,i];  out[i+hd/2] = x[i+hd/2]*cos + x[i]*sin  \
     out may equal inp. backward: dinp = R^T dout, WRITTEN (not added), may equal dout. */        \
  X(rope_forward, (float* out, const float* inp, const float* cos, const float* sin, int B,       \
                   int T, int H, int hd, int64_t ld))                                             \
  X(rope_backward, (float* dinp, const float* dout, const float* cos, const float* sin, int B,    \
                    int T, int H, int hd, int64_t ld))                                            \
  /* ---- SwiGLU (HF LlamaMLP: silu(gate) * up) ----                                          \
     inp [N, 2F] = [gate | up] (gate_proj, up_proj stacked), out [N, F] = silu(gate) * up,      \
     silu(g) = g / (1 + exp(-g)). backward: dinp [N, 2F] += */                                    \
  X(swiglu_forward, (float* out, const float* inp, int N, int F))                                 \
  X(swiglu_backward, (float* dinp, const float* dout, const float* inp, int N, int F))            \
  /* ---- GELU, tanh approximation (GPT-2); backward: dinp += ---- */                          \
  X(gelu_forward, (float* out, const float* inp, int64_t n))                                      \
  X(gelu_backward, (float* dinp, const float* inp, const float* dout, int64_t n))                 \
  /* ---- residual: out = a + b ---- */                                                         \
  X(residual_forward, (float* out, const float* a, const float* b, int64_t n))                    \
  /* ---- dropout (inverted: kept values scaled by 1/(1-p)) ----                              \
     out = inp * mask / (1-p); mask[i] = uniform(counter of element i) >= p.  p == 0: copy.    \
     backward: dinp += */                                                                         \
  X(dropout_forward, (float* out, const float* inp, int64_t n, const DropoutSite& drop))          \
  X(dropout_backward, (float* dinp, const float* dout, int64_t n, const DropoutSite& drop))       \
  /* ---- fused softmax + cross-entropy over a padded vocabulary ----                         \
     logits [N,Vp]; only columns [0,V) are real, the rest are ignored (masked out).            \
     losses[n] = -log softmax(logits[n, :V])[targets[n]].                                      \
     If dlogits != nullptr: dlogits[n, j] = (softmax_j - [j == target]) * dloss for j < V and  \
     0 for V <= j < Vp (written, not added). dlogits may alias logits. */                         \
  X(crossentropy_forward_backward, (float* losses, float* dlogits, const float* logits,           \
                                    const int32_t* targets, int N, int V, int Vp, float dloss))   \
  /* ---- optimizer and reductions over flat buffers ----                                     \
     AdamW (decoupled weight decay, bias correction) over n elements; `t` is the 1-based step: \
     g = grads[i] * grad_scale (grad_scale applies clipping);                                  \
     m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;                                              \
     p -= lr * ( (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps) + weight_decay * p )              \
     (adamw_element in host_device.h, shared by both backends) */                              \
  X(adamw_update, (float* params, const float* grads, float* m, float* v, int64_t n, float lr,    \
                   float beta1, float beta2, float eps, float weight_decay, int64_t t,            \
                   float grad_scale))                                                             \
  /* out[c] = sum_{i in chunk c} double(x[i])^2 for the n_chunks chunks of `chunk` elements    \
     each starting at x, in a fixed order: element i of the chunk into lane i % 8             \
     (kReductionLanes), lanes added left to right within a lane and combined                   \
     ((0+1)+(2+3))+((4+5)+(6+7)). */                                                              \
  X(sumsq_chunks, (double* out, const float* x, int64_t n_chunks, int64_t chunk))                 \
  /* a[i] += b[i]: one node of the canonical gradient tree. */                                    \
  X(add_inplace, (float* a, const float* b, int64_t n))

// Expanded inside namespace cpu here and namespace cuda in kernels/cuda/kernels_cuda.h.
#define CAIRN_DECLARE_OP(name, params) void name params;

namespace cpu {
CAIRN_OPS(CAIRN_DECLARE_OP)

// RoPE's table, computed once on the host (not an op: the model uploads it), as HF's fp32
// arithmetic: inv_freq[i] = 1 / theta^(2i/hd) with each step rounded to fp32 (the power in
// double), angle = float(t) * inv_freq[i] in fp32, cos[t,i] = float(cos(double(angle))),
// sin likewise;  cos, sin [T, hd/2].
void rope_table(float* cos, float* sin, int T, int hd, float theta);
}  // namespace cpu
}  // namespace cairn

// kernels/llama_kernels.h — the ops a Llama-style block adds to kernels.h: RMSNorm, rotary
// position embeddings (RoPE), SwiGLU and grouped-query causal attention.
//
// Same conventions as kernels.h (read it first): row-major fp32, backward kernels ADD (+=)
// into their gradient outputs unless stated otherwise, deterministic and thread-count
// invariant, inputs validated by the caller. The formulas are those of Hugging Face's
// LlamaForCausalLM (modeling_llama.py), so imported weights give the same logits.
//
// Shapes: N = B*T rows; C channels; NH query heads, NKV key/value heads (NH % NKV == 0; head
// h reads key/value head h / (NH/NKV), as HF's repeat_kv); hd = head dimension (even);
// F = SwiGLU hidden size.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace cairn::cpu {

// ---- RMSNorm (HF LlamaRMSNorm) ---------------------------------------------------------
// out[n,c] = inp[n,c] * rstd[n] * weight[c],  rstd[n] = 1/sqrt(mean_c(inp[n,c]^2) + eps);
// rstd [N] saved for backward.
void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N,
                     int C, float eps);
// dinp[N,C] += rstd * (g - xhat * mean(g * xhat)), g = weight * dout, xhat = inp * rstd;
// dweight[c] += sum_n dout[n,c] * xhat[n,c]
void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int N, int C);

// ---- rotary position embeddings, HF's rotate_half convention -----------------------------
// The table, computed once on the host (not an op: the model uploads it):
//   inv_freq[i] = 1 / theta^(2i/hd), each step rounded to fp32 as HF's float32 arithmetic
//     (the power in double, then rounded),
//   angle = float(t) * inv_freq[i] in fp32 (as HF's fp32 outer product),
//   cos[t, i] = float(cos(double(angle))), sin[t, i] likewise;   cos, sin [T, hd/2].
void rope_table(float* cos, float* sin, int T, int hd, float theta);
// Rotates H heads of hd values at the start of each row of a [B*T, ld] tensor (ld >= H*hd;
// columns past H*hd are neither read nor written, so q and k inside a packed qkv are rotated
// in one call and v is left alone). Row b*T + t is at position t; within a head the pairs
// are (i, i + hd/2), not interleaved:
//   out[i]        = x[i] * cos[t,i] + (-x[i+hd/2]) * sin[t,i]
//   out[i + hd/2] = x[i+hd/2] * cos[t,i] + x[i] * sin[t,i]          (i < hd/2)
// out may equal inp (in place).
void rope_forward(float* out, const float* inp, const float* cos, const float* sin, int B,
                  int T, int H, int hd, int64_t ld);
// The transpose (RoPE is linear): dinp = R(t)^T dout, WRITTEN, not added (the rotated input
// has one consumer), and dinp may equal dout so a packed dqkv is converted in place.
void rope_backward(float* dinp, const float* dout, const float* cos, const float* sin, int B,
                   int T, int H, int hd, int64_t ld);

// ---- SwiGLU (HF LlamaMLP's act_fn(gate) * up, act_fn = SiLU) ------------------------------
// inp [N, 2F]: per row gate = inp[0:F], up = inp[F:2F] (gate_proj and up_proj stacked, so one
// matmul makes both); out [N, F] = silu(gate) * up, silu(g) = g / (1 + exp(-g)).
void swiglu_forward(float* out, const float* inp, int N, int F);
// dinp [N, 2F] += d(out)/d(gate, up) * dout
void swiglu_backward(float* dinp, const float* dout, const float* inp, int N, int F);

// ---- causal grouped-query self-attention ---------------------------------------------------
// qkv [B, T, (NH + 2*NKV) * hd], per token: query head h at columns [h*hd, (h+1)*hd), key head
// g at (NH + g)*hd, value head g at (NH + NKV + g)*hd (q_proj, k_proj, v_proj stacked). With
// NKV == NH this is exactly attention_forward's qkv layout.
// out [B, T, NH*hd] = dropout(P) @ v per head, heads concatenated; P = softmax over keys <= t
// of q.k / sqrt(hd), computed as exp(s - lse) with lse [B, NH, T] the row's logsumexp, which
// is all that is saved: backward recomputes P, so memory is O(T), not O(T^2), per head.
// Dropout on P uses attention's counters: element ((b*NH + h)*T + t)*T + j.
void attention_gqa_forward(float* out, float* lse, const float* qkv, int B, int T, int NH,
                           int NKV, int hd, const DropoutSite& drop);
// dqkv += gradient of out w.r.t. qkv. dk and dv of a key/value head collect its NH/NKV query
// heads in head order, whatever the thread count.
void attention_gqa_backward(float* dqkv, const float* dout, const float* qkv, const float* lse,
                            int B, int T, int NH, int NKV, int hd, const DropoutSite& drop);

}  // namespace cairn::cpu

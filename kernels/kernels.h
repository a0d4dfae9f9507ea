// kernels/kernels.h — every numeric op cairn's model and optimizer use, one declaration each.
//
// The CPU implementations live in kernels/cpu/ (namespace cairn::cpu); the CUDA ones in
// kernels/cuda/ carry the same names in namespace cairn::cuda with device pointers.
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

namespace cpu {

// ---- embedding ------------------------------------------------------------------------
// out[b,t,:] = wte[tokens[b,t], :] + wpe[t, :]          wte [Vp,C], wpe [>=T,C], out [B,T,C]
void encoder_forward(float* out, const int32_t* tokens, const float* wte, const float* wpe,
                     int B, int T, int C);
// dwte[tokens[b,t], :] += dout[b,t,:];  dwpe[t,:] += dout[b,t,:]
void encoder_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens,
                      int B, int T, int C);

// ---- layernorm (eps = 1e-5, biased variance, as GPT-2) --------------------------------
// out[n,:] = (inp[n,:] - mean[n]) * rstd[n] * weight + bias;  mean, rstd [N] saved for backward
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int N, int C);
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int N, int C);

// ---- matmul, HF Conv1D layout --------------------------------------------------------
// out[N,OC] = inp[N,IC] @ weight[IC,OC] + bias[OC]   (bias may be nullptr)
void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int N, int IC, int OC);
// dinp[N,IC] += dout @ weight^T;  dweight[IC,OC] += inp^T @ dout;  dbias[OC] += sum_n dout
// (dinp and dbias may be nullptr)
void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int IC, int OC);

// ---- matmul with the weight stored [OC,IC] (the tied LM head: logits = x @ wte^T) -------
// out[N,OC] = inp[N,IC] @ weight[OC,IC]^T
void matmul_nt_forward(float* out, const float* inp, const float* weight, int N, int IC, int OC);
// dinp[N,IC] += dout @ weight;  dweight[OC,IC] += dout^T @ inp
void matmul_nt_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                        const float* weight, int N, int IC, int OC);

// ---- causal multi-head self-attention --------------------------------------------------
// qkv [B,T,3C]: per token q = qkv[0:C], k = qkv[C:2C], v = qkv[2C:3C]; head h uses columns
// [h*hs, (h+1)*hs) of each, hs = C/NH (the HF GPT-2 split).
// att [B,NH,T,T]: softmax(q.k / sqrt(hs)) over keys <= query (row t, entries > t are 0),
//   saved before dropout. out [B,T,C] = dropout(att) @ v, heads concatenated.
// The dropout mask is regenerated in backward from `drop` (counter element = index into att).
void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int NH,
                       const DropoutSite& drop);
// dqkv [B,T,3C] += gradient of out w.r.t. qkv
void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att,
                        int B, int T, int C, int NH, const DropoutSite& drop);

// ---- GELU, tanh approximation (GPT-2) ---------------------------------------------------
void gelu_forward(float* out, const float* inp, int64_t n);
void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n);  // dinp +=

// ---- residual ---------------------------------------------------------------------------
void residual_forward(float* out, const float* a, const float* b, int64_t n);     // out = a + b

// ---- dropout (inverted: kept values scaled by 1/(1-p)) -----------------------------------
// out = inp * mask / (1-p); mask[i] = uniform(counter of element i) >= p.  p == 0: copy.
void dropout_forward(float* out, const float* inp, int64_t n, const DropoutSite& drop);
void dropout_backward(float* dinp, const float* dout, int64_t n, const DropoutSite& drop);  // +=

// ---- fused softmax + cross-entropy over a padded vocabulary -------------------------------
// logits [N,Vp]; only columns [0,V) are real, the rest are ignored (masked out).
// losses[n] = -log softmax(logits[n, :V])[targets[n]].
// If dlogits != nullptr: dlogits[n, j] = (softmax_j - [j == target]) * dloss for j < V and
// 0 for V <= j < Vp (written, not added). dlogits may alias logits.
void crossentropy_forward_backward(float* losses, float* dlogits, const float* logits,
                                   const int32_t* targets, int N, int V, int Vp, float dloss);

// ---- optimizer and reductions over flat buffers -----------------------------------------
// AdamW (decoupled weight decay, bias correction) over n elements; `t` is the 1-based step.
// g = grads[i] * grad_scale (grad_scale applies clipping);
// m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;
// p -= lr * ( (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps) + weight_decay * p )
void adamw_update(float* params, const float* grads, float* m, float* v, int64_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int64_t t,
                  float grad_scale);

// out[c] = sum_{i in chunk c} double(x[i])^2 for the n_chunks chunks of `chunk` elements each
// starting at x, in a fixed order: element i of the chunk into lane i % 8, lanes added
// left to right within a lane and combined ((0+1)+(2+3))+((4+5)+(6+7)).
void sumsq_chunks(double* out, const float* x, int64_t n_chunks, int64_t chunk);

// a[i] += b[i]: one node of the canonical gradient tree.
void add_inplace(float* a, const float* b, int64_t n);

}  // namespace cpu
}  // namespace cairn

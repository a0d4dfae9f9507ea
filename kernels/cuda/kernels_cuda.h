// kernels/cuda/kernels_cuda.h — the CUDA implementations of kernels.h, namespace cairn::cuda.
//
// Same names, signatures and semantics as cairn::cpu (kernels.h is the specification:
// shapes, the += convention of backward kernels, DropoutSite); every pointer is a device
// pointer on the current device, and work is queued on the legacy default stream, in call
// order. Callers normally reach these through cuda_ops() (kernels/ops.h).
//
// Determinism: no floating-point atomics anywhere; every reduction has a fixed shape-only
// order (see each .cu file), and cuBLAS runs with a fixed workspace, no atomics and, unless
// set_tf32(true), full fp32 math. So a run gives the same bits every time on one GPU model.
// Bitwise equality with the CPU is promised only for dropout masks (same Philox counters) and
// the encoder backward (same summation order); other ops agree within tests/tolerance.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/kernels.h"

namespace cairn::cuda {

void encoder_forward(float* out, const int32_t* tokens, const float* wte, const float* wpe,
                     int B, int T, int C);
void encoder_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens,
                      int B, int T, int C);
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int N, int C);
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int N, int C);
void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int N, int IC, int OC);
void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int IC, int OC);
void matmul_nt_forward(float* out, const float* inp, const float* weight, int N, int IC, int OC);
void matmul_nt_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                        const float* weight, int N, int IC, int OC);
void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int NH,
                       const DropoutSite& drop);
void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att,
                        int B, int T, int C, int NH, const DropoutSite& drop);
void gelu_forward(float* out, const float* inp, int64_t n);
void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n);
void residual_forward(float* out, const float* a, const float* b, int64_t n);
void dropout_forward(float* out, const float* inp, int64_t n, const DropoutSite& drop);
void dropout_backward(float* dinp, const float* dout, int64_t n, const DropoutSite& drop);
void crossentropy_forward_backward(float* losses, float* dlogits, const float* logits,
                                   const int32_t* targets, int N, int V, int Vp, float dloss);
void adamw_update(float* params, const float* grads, float* m, float* v, int64_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int64_t t,
                  float grad_scale);
void sumsq_chunks(double* out, const float* x, int64_t n_chunks, int64_t chunk);
void add_inplace(float* a, const float* b, int64_t n);

}  // namespace cairn::cuda

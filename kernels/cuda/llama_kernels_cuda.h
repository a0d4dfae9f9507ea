// kernels/cuda/llama_kernels_cuda.h — the CUDA implementations of kernels/llama_kernels.h,
// namespace cairn::cuda: same names, signatures and semantics, device pointers, work queued on
// stream() in call order (see kernels_cuda.h for the determinism rules they keep).
// rope_table is host-only: the model computes the table with cpu::rope_table and uploads it,
// so both backends rotate with the same values (and RoPE is then bitwise equal to the CPU).
#pragma once

#include <cstdint>

#include "kernels/llama_kernels.h"

namespace cairn::cuda {

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N,
                     int C, float eps);
void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int N, int C);
void rope_forward(float* out, const float* inp, const float* cos, const float* sin, int B,
                  int T, int H, int hd, int64_t ld);
void rope_backward(float* dinp, const float* dout, const float* cos, const float* sin, int B,
                   int T, int H, int hd, int64_t ld);
void swiglu_forward(float* out, const float* inp, int N, int F);
void swiglu_backward(float* dinp, const float* dout, const float* inp, int N, int F);
void attention_gqa_forward(float* out, float* lse, const float* qkv, int B, int T, int NH,
                           int NKV, int hd, const DropoutSite& drop);
void attention_gqa_backward(float* dqkv, const float* dout, const float* qkv, const float* lse,
                            int B, int T, int NH, int NKV, int hd, const DropoutSite& drop);

}  // namespace cairn::cuda

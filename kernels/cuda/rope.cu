// kernels/cuda/rope.cu — rotary position embeddings on the GPU (HF's rotate_half pairs):
// rope_forward/backward, layout and semantics as kernels/kernels.h.
//
// One thread per (row, head, pair i): it reads x[i] and x[i + hd/2] before writing either, so
// out == inp is safe. The products and the add are the CPU's, in the same order (--fmad=false),
// and the table is the CPU's (uploaded), so results are bitwise equal to cpu::rope_*.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;

template <bool kTranspose>
__global__ void rope_kernel(float* out, const float* inp, const float* cos, const float* sin, int T, int H,
                            int hd, int64_t ld, int64_t total) {
  const int half = hd / 2;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int i = int(e % half);
    const int h = int((e / half) % H);
    const int64_t n = e / (int64_t(half) * H);
    const int64_t t = n % T;
    const int64_t off = n * ld + int64_t(h) * hd;
    const float c = cos[t * half + i], s = sin[t * half + i];
    const float a = inp[off + i], b = inp[off + i + half];
    if (kTranspose) {
      out[off + i] = a * c + b * s;
      out[off + i + half] = b * c + (-a) * s;
    } else {
      out[off + i] = a * c + (-b) * s;
      out[off + i + half] = b * c + a * s;
    }
  }
}

}  // namespace

void rope_forward(float* out, const float* inp, const float* cos, const float* sin, int B, int T, int H, int hd,
                  int64_t ld) {
  const int64_t total = int64_t(B) * T * H * (hd / 2);
  rope_kernel<false><<<elementwise_blocks(total, kThreads), kThreads, 0, stream()>>>(out, inp, cos, sin, T, H, hd,
                                                                                     ld, total);
  CAIRN_LAUNCH_CHECK();
}

void rope_backward(float* dinp, const float* dout, const float* cos, const float* sin, int B, int T, int H, int hd,
                   int64_t ld) {
  const int64_t total = int64_t(B) * T * H * (hd / 2);
  rope_kernel<true><<<elementwise_blocks(total, kThreads), kThreads, 0, stream()>>>(dinp, dout, cos, sin, T, H, hd,
                                                                                    ld, total);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda

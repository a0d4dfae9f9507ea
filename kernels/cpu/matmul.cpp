// kernels/cpu/matmul.cpp — matmul_forward/backward (HF Conv1D weight [IC,OC]) and
// matmul_nt_forward/backward (weight [OC,IC], the tied LM head).
//
// Every product is tiled over its OUTPUT (gemm_tiles.h): each block is one single-threaded
// gemm() (gemm.h) accumulating straight into the destination over the full reduction
// dimension, so the bits do not depend on the thread count:
//   forward  out    [N,OC]  blocks of rows x cols, reduce over IC
//   backward dinp   [N,IC]  reduce over OC
//            dweight        reduce over all N rows (inp^T restricted to the block's columns)
//            dbias   [OC]   column blocks, each summing all rows in row order
#include <cstring>

#include "kernels/cpu/gemm_tiles.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {

// dbias[o] += sum_n dout[n, o], rows summed in order (float accumulation, like a GEMM).
void bias_backward(float* dbias, const float* dout, int N, int OC) {
  constexpr int64_t kCols = 64;
  parallel_for(ceil_div(OC, kCols), [&](int64_t tile) {
    const int64_t c0 = tile * kCols, nc = OC - c0 < kCols ? OC - c0 : kCols;
    float acc[kCols] = {};
    for (int64_t n = 0; n < N; ++n) {
      const float* row = dout + n * OC + c0;
      for (int64_t j = 0; j < nc; ++j) acc[j] += row[j];
    }
    for (int64_t j = 0; j < nc; ++j) dbias[c0 + j] += acc[j];
  });
}

}  // namespace

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int N, int IC, int OC) {
  for_each_output_tile(N, OC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    float* y = out + r0 * OC + c0;
    if (bias) {
      for (int64_t r = 0; r < nr; ++r) std::memcpy(y + r * OC, bias + c0, nc * sizeof(float));
    }
    // y = x[r0:r0+nr, :] @ w[:, c0:c0+nc] (+ the bias rows)
    gemm(Trans::kNo, Trans::kNo, nr, nc, IC, inp + r0 * IC, IC, weight + c0, OC, bias ? 1.0f : 0.0f, y, OC);
  });
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int IC, int OC) {
  if (dinp) {  // dx[r0.., c0..] += dy[r0.., :] @ w[c0.., :]^T
    for_each_output_tile(N, IC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
      gemm(Trans::kNo, Trans::kYes, nr, nc, OC, dout + r0 * OC, OC, weight + c0 * OC, OC, 1.0f,
           dinp + r0 * IC + c0, IC);
    });
  }
  // dw[r0.., c0..] += x[:, r0..]^T @ dy[:, c0..]
  for_each_output_tile(IC, OC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    gemm(Trans::kYes, Trans::kNo, nr, nc, N, inp + r0, IC, dout + c0, OC, 1.0f, dweight + r0 * OC + c0, OC);
  });
  if (dbias) bias_backward(dbias, dout, N, OC);
}

void matmul_nt_forward(float* out, const float* inp, const float* weight, int N, int IC, int OC) {
  // y[r0.., c0..] = x[r0.., :] @ w[c0.., :]^T
  for_each_output_tile(N, OC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    gemm(Trans::kNo, Trans::kYes, nr, nc, IC, inp + r0 * IC, IC, weight + c0 * IC, IC, 0.0f, out + r0 * OC + c0, OC);
  });
}

void matmul_nt_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                        const float* weight, int N, int IC, int OC) {
  if (dinp) {  // dx[r0.., c0..] += dy[r0.., :] @ w[:, c0..]
    for_each_output_tile(N, IC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
      gemm(Trans::kNo, Trans::kNo, nr, nc, OC, dout + r0 * OC, OC, weight + c0, IC, 1.0f, dinp + r0 * IC + c0, IC);
    });
  }
  // dw[r0.., c0..] += dy[:, r0..]^T @ x[:, c0..]
  for_each_output_tile(OC, IC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    gemm(Trans::kYes, Trans::kNo, nr, nc, N, dout + r0, OC, inp + c0, IC, 1.0f, dweight + r0 * IC + c0, IC);
  });
}

}  // namespace cairn::cpu

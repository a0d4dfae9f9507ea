// kernels/cpu/matmul.cpp — matmul_forward/backward (HF Conv1D weight [IC,OC]) and
// matmul_nt_forward/backward (weight [OC,IC], the tied LM head).
//
// Every product is tiled over its OUTPUT (gemm_tiles.h): each block is one single-threaded
// Eigen GEMM accumulating (noalias +=) straight into the destination over the full
// reduction dimension, so the bits do not depend on the thread count:
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
  const auto x = mat(inp, N, IC, IC);
  const auto w = mat(weight, IC, OC, OC);
  auto y = mat(out, N, OC, OC);
  for_each_output_tile(N, OC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    for (int64_t r = r0; r < r0 + nr; ++r) {
      float* row = out + r * OC + c0;
      if (bias) {
        std::memcpy(row, bias + c0, nc * sizeof(float));
      } else {
        std::memset(row, 0, nc * sizeof(float));
      }
    }
    y.block(r0, c0, nr, nc).noalias() += x.middleRows(r0, nr) * w.middleCols(c0, nc);
  });
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int IC, int OC) {
  const auto dy = mat(dout, N, OC, OC);
  if (dinp) {
    const auto w = mat(weight, IC, OC, OC);
    auto dx = mat(dinp, N, IC, IC);
    for_each_output_tile(N, IC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
      dx.block(r0, c0, nr, nc).noalias() += dy.middleRows(r0, nr) * w.middleRows(c0, nc).transpose();
    });
  }
  const auto x = mat(inp, N, IC, IC);
  auto dw = mat(dweight, IC, OC, OC);
  for_each_output_tile(IC, OC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    dw.block(r0, c0, nr, nc).noalias() += x.middleCols(r0, nr).transpose() * dy.middleCols(c0, nc);
  });
  if (dbias) bias_backward(dbias, dout, N, OC);
}

void matmul_nt_forward(float* out, const float* inp, const float* weight, int N, int IC, int OC) {
  const auto x = mat(inp, N, IC, IC);
  const auto w = mat(weight, OC, IC, IC);
  auto y = mat(out, N, OC, OC);
  for_each_output_tile(N, OC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    for (int64_t r = r0; r < r0 + nr; ++r) std::memset(out + r * OC + c0, 0, nc * sizeof(float));
    y.block(r0, c0, nr, nc).noalias() += x.middleRows(r0, nr) * w.middleRows(c0, nc).transpose();
  });
}

void matmul_nt_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                        const float* weight, int N, int IC, int OC) {
  const auto dy = mat(dout, N, OC, OC);
  const auto x = mat(inp, N, IC, IC);
  const auto w = mat(weight, OC, IC, IC);
  if (dinp) {
    auto dx = mat(dinp, N, IC, IC);
    for_each_output_tile(N, IC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
      dx.block(r0, c0, nr, nc).noalias() += dy.middleRows(r0, nr) * w.middleCols(c0, nc);
    });
  }
  auto dw = mat(dweight, OC, IC, IC);
  for_each_output_tile(OC, IC, [&](int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    dw.block(r0, c0, nr, nc).noalias() += dy.middleCols(r0, nr).transpose() * x.middleCols(c0, nc);
  });
}

}  // namespace cairn::cpu

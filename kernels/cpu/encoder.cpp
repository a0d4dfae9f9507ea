// kernels/cpu/encoder.cpp — token + position embedding: encoder_forward/backward.
//
// Forward is row-parallel. Backward scatters rows of dout into dwte rows picked by the
// tokens, so two rows may hit the same dwte row; to keep a fixed summation order it is tiled
// over COLUMN blocks instead: each block walks all (b, t) in order, so every element of
// dwte and dwpe receives its contributions in (b, t) order, whatever the thread count.
#include <cstring>

#include "core/parallel.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {
constexpr int64_t kRowTile = 16;  // forward rows per tile
constexpr int64_t kColTile = 64;  // backward columns per tile (a few cache lines)
}  // namespace

void encoder_forward(float* out, const int32_t* tokens, const float* wte, const float* wpe,
                     int B, int T, int C) {
  const int64_t N = int64_t(B) * T;
  parallel_for(ceil_div(N, kRowTile), [&](int64_t tile) {
    const int64_t end = (tile + 1) * kRowTile < N ? (tile + 1) * kRowTile : N;
    for (int64_t n = tile * kRowTile; n < end; ++n) {
      const float* tok_row = wte + int64_t(tokens[n]) * C;
      const float* pos_row = wpe + (n % T) * C;
      float* out_row = out + n * C;
      for (int c = 0; c < C; ++c) out_row[c] = tok_row[c] + pos_row[c];
    }
  });
}

void encoder_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens,
                      int B, int T, int C) {
  const int64_t N = int64_t(B) * T;
  parallel_for(ceil_div(C, kColTile), [&](int64_t tile) {
    const int64_t c0 = tile * kColTile, nc = C - c0 < kColTile ? C - c0 : kColTile;
    for (int64_t n = 0; n < N; ++n) {
      const float* d = dout + n * C + c0;
      float* tok_row = dwte + int64_t(tokens[n]) * C + c0;
      float* pos_row = dwpe + (n % T) * C + c0;
      for (int64_t c = 0; c < nc; ++c) tok_row[c] += d[c];
      for (int64_t c = 0; c < nc; ++c) pos_row[c] += d[c];
    }
  });
}

}  // namespace cairn::cpu

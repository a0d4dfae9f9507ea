// kernels/cpu/rmsnorm.cpp — RMSNorm (HF LlamaRMSNorm): rmsnorm_forward/backward.
//
// As layernorm.cpp: the row statistic (mean of squares) is accumulated in double over fixed
// lanes (vector_math.h) and rounded to float once; the element-wise math is float, in HF's
// order ((x * rstd) * weight). Forward and dinp are row-parallel; dweight reduces over all
// rows, so it is tiled over COLUMN blocks, each summing its columns over the rows in row
// order (in double) before one += per element.
#include <cmath>

#include "core/parallel.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {
constexpr int64_t kRowTile = 16;
constexpr int64_t kColTile = 64;
}  // namespace

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N,
                     int C, float eps) {
  parallel_for(ceil_div(N, kRowTile), [&](int64_t tile) {
    const int64_t end = (tile + 1) * kRowTile < N ? (tile + 1) * kRowTile : N;
    for (int64_t n = tile * kRowTile; n < end; ++n) {
      const float* x = inp + n * C;
      const double mean_sq = vec::sum_sq_dev_f64(x, C, 0.0) / C;
      const float s = float(1.0 / std::sqrt(mean_sq + double(eps)));
      float* y = out + n * C;
      for (int c = 0; c < C; ++c) y[c] = x[c] * s * weight[c];
      rstd[n] = s;
    }
  });
}

void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int N, int C) {
  // y = w * x * s(x), s = (mean(x^2) + eps)^-1/2, ds/dx_k = -s^3 x_k / C, hence
  // dx = s * (g - xhat * mean(g * xhat)) with g = w * dy, xhat = x * s.
  parallel_for(ceil_div(N, kRowTile), [&](int64_t tile) {
    const int64_t end = (tile + 1) * kRowTile < N ? (tile + 1) * kRowTile : N;
    for (int64_t n = tile * kRowTile; n < end; ++n) {
      const float* x = inp + n * C;
      const float* dy = dout + n * C;
      const float s = rstd[n];
      double sum_gx[vec::kLanes] = {};
      auto accumulate = [&](int c, int lane) {
        const float g = weight[c] * dy[c];
        sum_gx[lane] += double(g) * double(x[c] * s);
      };
      int c = 0;
      for (; c + vec::kLanes <= C; c += vec::kLanes)
        for (int l = 0; l < vec::kLanes; ++l) accumulate(c + l, l);
      for (int l = 0; c + l < C; ++l) accumulate(c + l, l);
      const float gx_mean = float(vec::combine_lanes(sum_gx) / C);
      float* dx = dinp + n * C;
      for (int k = 0; k < C; ++k) {
        const float g = weight[k] * dy[k];
        const float xhat = x[k] * s;
        dx[k] += (g - xhat * gx_mean) * s;
      }
    }
  });

  parallel_for(ceil_div(C, kColTile), [&](int64_t tile) {
    const int64_t c0 = tile * kColTile, nc = C - c0 < kColTile ? C - c0 : kColTile;
    double acc[kColTile] = {};
    for (int64_t n = 0; n < N; ++n) {
      const float* x = inp + n * C + c0;
      const float* dy = dout + n * C + c0;
      const float s = rstd[n];
      for (int64_t j = 0; j < nc; ++j) acc[j] += double(dy[j]) * double(x[j] * s);
    }
    for (int64_t j = 0; j < nc; ++j) dweight[c0 + j] += float(acc[j]);
  });
}

}  // namespace cairn::cpu

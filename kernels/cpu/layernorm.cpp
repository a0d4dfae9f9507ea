// kernels/cpu/layernorm.cpp — LayerNorm (eps 1e-5, biased variance): layernorm_forward/backward.
//
// Row statistics are accumulated in double over fixed lanes (vector_math.h) and rounded to
// float once; the element-wise math is float. Forward and the dinp part of backward are
// row-parallel. dweight/dbias reduce over all rows, so they are tiled over COLUMN blocks,
// each summing its columns over the rows in row order (in double) before one += per element.
#include <cmath>

#include "core/parallel.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/host_device.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {
constexpr int64_t kRowTile = 16;
constexpr int64_t kColTile = 64;
}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int N, int C) {
  parallel_for(ceil_div(N, kRowTile), [&](int64_t tile) {
    const int64_t end = (tile + 1) * kRowTile < N ? (tile + 1) * kRowTile : N;
    for (int64_t n = tile * kRowTile; n < end; ++n) {
      const float* x = inp + n * C;
      const double mu = vec::sum_f64(x, C) / C;
      const double var = vec::sum_sq_dev_f64(x, C, mu) / C;
      const float m = float(mu);
      const float s = float(1.0 / std::sqrt(var + double(kLayerNormEps)));
      float* y = out + n * C;
      for (int c = 0; c < C; ++c) y[c] = (x[c] - m) * s * weight[c] + bias[c];
      mean[n] = m;
      rstd[n] = s;
    }
  });
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int N, int C) {
  // dinp: row-parallel. With xhat = (x - mean) * rstd and g = weight * dout,
  // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
  parallel_for(ceil_div(N, kRowTile), [&](int64_t tile) {
    const int64_t end = (tile + 1) * kRowTile < N ? (tile + 1) * kRowTile : N;
    for (int64_t n = tile * kRowTile; n < end; ++n) {
      const float* x = inp + n * C;
      const float* dy = dout + n * C;
      const float m = mean[n], s = rstd[n];
      double sum_g[vec::kLanes] = {}, sum_gx[vec::kLanes] = {};
      auto accumulate = [&](int c, int lane) {
        const float g = weight[c] * dy[c];
        const float xhat = (x[c] - m) * s;
        sum_g[lane] += double(g);
        sum_gx[lane] += double(g) * double(xhat);
      };
      int c = 0;
      for (; c + vec::kLanes <= C; c += vec::kLanes)
        for (int l = 0; l < vec::kLanes; ++l) accumulate(c + l, l);
      for (int l = 0; c + l < C; ++l) accumulate(c + l, l);
      const float g_mean = float(vec::combine_lanes(sum_g) / C);
      const float gx_mean = float(vec::combine_lanes(sum_gx) / C);
      float* dx = dinp + n * C;
      for (int k = 0; k < C; ++k) {
        const float g = weight[k] * dy[k];
        const float xhat = (x[k] - m) * s;
        dx[k] += (g - g_mean - xhat * gx_mean) * s;
      }
    }
  });

  // dweight[c] += sum_n dout[n,c] * xhat[n,c];  dbias[c] += sum_n dout[n,c]
  parallel_for(ceil_div(C, kColTile), [&](int64_t tile) {
    const int64_t c0 = tile * kColTile, nc = C - c0 < kColTile ? C - c0 : kColTile;
    double acc_w[kColTile] = {}, acc_b[kColTile] = {};
    for (int64_t n = 0; n < N; ++n) {
      const float* x = inp + n * C + c0;
      const float* dy = dout + n * C + c0;
      const float m = mean[n], s = rstd[n];
      for (int64_t j = 0; j < nc; ++j) {
        const float xh = (x[j] - m) * s;
        acc_w[j] += double(dy[j]) * double(xh);
        acc_b[j] += double(dy[j]);
      }
    }
    for (int64_t j = 0; j < nc; ++j) {
      dweight[c0 + j] += float(acc_w[j]);
      dbias[c0 + j] += float(acc_b[j]);
    }
  });
}

}  // namespace cairn::cpu

// kernels/cpu/rope.cpp — rotary position embeddings, HF's rotate_half convention:
// rope_table, rope_forward/backward.
//
// Pure element-wise rotations of (i, i + hd/2) pairs, cut into fixed tiles of rows: no
// reduction, so any tiling gives the same bits. The products are written the way HF's eager
// `q * cos + rotate_half(q) * sin` rounds them (each product rounded, then one add), so with
// the same table the rotated values equal HF's. Every pair is read before it is written,
// which is what makes out == inp (and dinp == dout) safe.
#include <cmath>

#include "core/parallel.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {

constexpr int64_t kRowTile = 32;

// For every row tile: fn(row pointer offset, position t) for each row of the tile.
template <typename Fn>
void for_each_row(int B, int T, Fn&& fn) {
  const int64_t N = int64_t(B) * T;
  parallel_for(ceil_div(N, kRowTile), [&](int64_t tile) {
    const int64_t end = (tile + 1) * kRowTile < N ? (tile + 1) * kRowTile : N;
    for (int64_t n = tile * kRowTile; n < end; ++n) fn(n, n % T);
  });
}

}  // namespace

void rope_table(float* cos, float* sin, int T, int hd, float theta) {
  const int half = hd / 2;
  for (int i = 0; i < half; ++i) {
    // HF: 1.0 / (base ** (arange(0, hd, 2).float() / hd)), every step rounded to fp32.
    const float exponent = float(2 * i) / float(hd);
    const float inv_freq = 1.0f / float(std::pow(double(theta), double(exponent)));
    for (int t = 0; t < T; ++t) {
      const float angle = float(t) * inv_freq;
      cos[int64_t(t) * half + i] = float(std::cos(double(angle)));
      sin[int64_t(t) * half + i] = float(std::sin(double(angle)));
    }
  }
}

void rope_forward(float* out, const float* inp, const float* cos, const float* sin, int B,
                  int T, int H, int hd, int64_t ld) {
  const int half = hd / 2;
  for_each_row(B, T, [&](int64_t n, int64_t t) {
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    for (int h = 0; h < H; ++h) {
      const float* x = inp + n * ld + int64_t(h) * hd;
      float* y = out + n * ld + int64_t(h) * hd;
      for (int i = 0; i < half; ++i) {
        const float a = x[i], b = x[i + half];
        y[i] = a * c[i] + (-b) * s[i];
        y[i + half] = b * c[i] + a * s[i];
      }
    }
  });
}

void rope_backward(float* dinp, const float* dout, const float* cos, const float* sin, int B,
                   int T, int H, int hd, int64_t ld) {
  const int half = hd / 2;
  for_each_row(B, T, [&](int64_t n, int64_t t) {
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    for (int h = 0; h < H; ++h) {
      const float* dy = dout + n * ld + int64_t(h) * hd;
      float* dx = dinp + n * ld + int64_t(h) * hd;
      for (int i = 0; i < half; ++i) {
        const float a = dy[i], b = dy[i + half];
        dx[i] = a * c[i] + b * s[i];
        dx[i + half] = b * c[i] + (-a) * s[i];
      }
    }
  });
}

}  // namespace cairn::cpu

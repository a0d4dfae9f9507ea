// core/philox.h — Philox4x32-10 counter-based RNG (Salmon et al., SC'11).
//
// A draw is a pure function of (key, counter): no hidden state, so any rank or thread can
// produce the numbers for any (step, micro-batch, layer, element) and get the same bits.
// cairn keys a stream by (seed, purpose) and builds the 128-bit counter from the
// coordinates of the value being drawn. The draw functions are host+device (CAIRN_HOST_DEVICE):
// the CUDA dropout kernels use this very code.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace cairn {

struct Philox4x32 {
  uint32_t v[4];
};

// Purposes keep independent streams apart even under the same seed.
enum class RngPurpose : uint32_t { kInit = 1, kDropout = 2, kShuffle = 3, kSample = 4 };

CAIRN_HOST_DEVICE inline Philox4x32 philox4x32_10(Philox4x32 counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = counter.v[0], c1 = counter.v[1], c2 = counter.v[2], c3 = counter.v[3];
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(kM0) * c0;
    uint64_t p1 = uint64_t(kM1) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ key0;
    uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ key1;
    c0 = n0;
    c1 = uint32_t(p1);
    c2 = n2;
    c3 = uint32_t(p0);
    key0 += kW0;
    key1 += kW1;
  }
  return {{c0, c1, c2, c3}};
}

// A stream: key = (seed, purpose). draw(a, b, c, d) returns 4 random words for counter (a,b,c,d).
struct PhiloxStream {
  uint64_t seed;
  RngPurpose purpose;

  CAIRN_HOST_DEVICE Philox4x32 draw(uint32_t a, uint32_t b, uint32_t c, uint32_t d) const {
    uint32_t k0 = uint32_t(seed) ^ (uint32_t(purpose) * 0x85EBCA6Bu);
    uint32_t k1 = uint32_t(seed >> 32) ^ (uint32_t(purpose) * 0xC2B2AE35u);
    return philox4x32_10({{a, b, c, d}}, k0, k1);
  }

  // draw() for coordinates wider than a counter word: a and d are 64-bit, their low halves
  // are the counter words and their high halves select the key (k0 ^= a_hi * odd constant,
  // k1 ^= d_hi * odd constant: one-to-one, and zero for high halves of zero, so every value
  // below 2^32 draws exactly what draw() does). Under one (seed, purpose), distinct
  // (a, b, c, d) never share a (key, counter) pair: no stream wraps at 2^32.
  CAIRN_HOST_DEVICE Philox4x32 draw_wide(uint64_t a, uint32_t b, uint32_t c, uint64_t d) const {
    uint32_t k0 = uint32_t(seed) ^ (uint32_t(purpose) * 0x85EBCA6Bu) ^ (uint32_t(a >> 32) * 0x9E3779B1u);
    uint32_t k1 = uint32_t(seed >> 32) ^ (uint32_t(purpose) * 0xC2B2AE35u) ^ (uint32_t(d >> 32) * 0x27D4EB2Fu);
    return philox4x32_10({{uint32_t(a), b, c, uint32_t(d)}}, k0, k1);
  }
};

// Uniform float in [0, 1) from the top 24 bits of a word (exactly representable).
CAIRN_HOST_DEVICE inline float uniform_from_u32(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }

// Standard normal via Box-Muller from two words. Computed in double so the result does not
// depend on float contraction choices; rounded once to float.
inline float normal_from_u32(uint32_t a, uint32_t b) {
  double u1 = (double(a >> 8) + 1.0) * (1.0 / 16777217.0);  // (0, 1]
  double u2 = double(b >> 8) * (1.0 / 16777216.0);
  return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

}  // namespace cairn

// kernels/cpu/vector_math.h — SIMD building blocks shared by the CPU kernels (private header).
//
// Two properties matter more than speed here:
//  * Every element takes the same code path. Transcendentals go through Eigen's packet
//    functions (pexp, ptanh) for ALL elements — the ragged tail is padded into one extra
//    packet — so a value never depends on where it falls relative to a vector boundary or on
//    the pointer's alignment (Eigen's own array loops peel unaligned heads with the scalar
//    std:: functions, which would make results depend on malloc's alignment).
//  * Reductions use a fixed number of lanes: element i always goes to lane i % kLanes and the
//    lanes are combined in one fixed order, so the result depends only on n.
#pragma once

// GCC 12 reports false -Wmaybe-uninitialized inside its own AVX-512 intrinsics once
// Eigen's kernels are inlined; silence it for Eigen's headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop

#include <cstdint>

#include "kernels/host_device.h"

namespace cairn::cpu::vec {

using Packet = Eigen::internal::packet_traits<float>::type;
inline constexpr int kPacket = Eigen::internal::packet_traits<float>::size;

// Apply a packet function to x[0, n) in place, the tail through a padded packet.
template <typename PacketFn>
inline void apply_inplace(float* x, int64_t n, PacketFn&& fn) {
  namespace ei = Eigen::internal;
  int64_t i = 0;
  for (; i + kPacket <= n; i += kPacket) ei::pstoreu(x + i, fn(ei::ploadu<Packet>(x + i)));
  if (i < n) {
    alignas(64) float tail[kPacket] = {};
    for (int64_t j = i; j < n; ++j) tail[j - i] = x[j];
    ei::pstore(tail, fn(ei::pload<Packet>(tail)));
    for (int64_t j = i; j < n; ++j) x[j] = tail[j - i];
  }
}

// y[i] = exp(x[i] - shift); y may equal x.
inline void exp_shifted(float* y, const float* x, int64_t n, float shift) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] - shift;
  apply_inplace(y, n, [](const Packet& p) { return Eigen::internal::pexp(p); });
}

inline void tanh_inplace(float* x, int64_t n) {
  apply_inplace(x, n, [](const Packet& p) { return Eigen::internal::ptanh(p); });
}

inline constexpr int kLanes = kReductionLanes;  // kernels/host_device.h
static_assert(kLanes == 8, "combine_lanes is written for 8 lanes");

// Combine the lanes pairwise in a fixed tree.
inline double combine_lanes(const double (&acc)[kLanes]) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// acc[i % kLanes] += double(x[i]). A long array may be fed in pieces whose lengths are
// multiples of kLanes (except the last) and gives the same lanes as one call.
inline void accumulate_lanes(double (&acc)[kLanes], const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += double(x[i + l]);
  for (int l = 0; i + l < n; ++l) acc[l] += double(x[i + l]);
}

// sum_i double(x[i]), lanes fixed by index.
inline double sum_f64(const float* x, int64_t n) {
  double acc[kLanes] = {};
  accumulate_lanes(acc, x, n);
  return combine_lanes(acc);
}

// sum_i double(a[i]) * double(b[i]), lanes fixed by index.
inline double dot_f64(const float* a, const float* b, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += double(a[i + l]) * double(b[i + l]);
  for (int l = 0; i + l < n; ++l) acc[l] += double(a[i + l]) * double(b[i + l]);
  return combine_lanes(acc);
}

// sum_i (double(x[i]) - mean)^2, lanes fixed by index.
inline double sum_sq_dev_f64(const float* x, int64_t n, double mean) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      double d = double(x[i + l]) - mean;
      acc[l] += d * d;
    }
  for (int l = 0; i + l < n; ++l) {
    double d = double(x[i + l]) - mean;
    acc[l] += d * d;
  }
  return combine_lanes(acc);
}

// max_i x[i] (n >= 1). Max is exact, so only speed depends on the lane layout.
inline float max_f32(const float* x, int64_t n) {
  float acc[kLanes];
  for (int l = 0; l < kLanes; ++l) acc[l] = x[0];
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] = x[i + l] > acc[l] ? x[i + l] : acc[l];
  for (int l = 0; i + l < n; ++l) acc[l] = x[i + l] > acc[l] ? x[i + l] : acc[l];
  float m = acc[0];
  for (int l = 1; l < kLanes; ++l) m = acc[l] > m ? acc[l] : m;
  return m;
}

}  // namespace cairn::cpu::vec

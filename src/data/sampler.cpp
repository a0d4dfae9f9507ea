// data/sampler.cpp — keyed permutation of windows: balanced Feistel network + cycle walking.
//
// A balanced Feistel network on 2h bits is a bijection for any round function: each round
// maps (L, R) -> (R, L ^ F(R)) and is undone by (L, R) -> (R ^ F(L), L). The round function
// is Philox keyed by (seed, kShuffle) with counter (R, round, epoch_lo, epoch_hi), so each
// (seed, epoch) gives a different permutation. To restrict it to [0, n) we cycle-walk: apply
// the network again until the value is < n. This stays a bijection (we follow the cycle of
// the permutation that contains x to the next element in range), and since 2^(2h) < 4n
// (2h is the smallest even bit count covering n) the expected number of passes is below 4.
#include "data/sampler.h"

#include "core/error.h"
#include "core/philox.h"

namespace cairn::data {
namespace {
// Luby-Rackoff: 4 rounds already give a strong pseudo-random permutation; 6 adds margin
// for the tiny domains where the round function has few inputs.
constexpr uint32_t kFeistelRounds = 6;
}  // namespace

GlobalSampler::GlobalSampler(int64_t n_windows, uint64_t seed) : n_windows_(n_windows), seed_(seed) {
  CAIRN_CHECK(n_windows > 0, "sampler needs at least one window, got ", n_windows);
  half_bits_ = 1;
  while (half_bits_ < 32 && (uint64_t(1) << (2 * half_bits_)) < uint64_t(n_windows)) ++half_bits_;
}

uint64_t GlobalSampler::feistel(uint64_t x, uint32_t epoch_lo, uint32_t epoch_hi) const {
  const uint64_t mask = (uint64_t(1) << half_bits_) - 1;  // half_bits_ <= 32
  const PhiloxStream stream{seed_, RngPurpose::kShuffle};
  uint64_t left = x >> half_bits_;
  uint64_t right = x & mask;
  for (uint32_t round = 0; round < kFeistelRounds; ++round) {
    const uint64_t f = stream.draw(uint32_t(right), round, epoch_lo, epoch_hi).v[0] & mask;
    const uint64_t next_right = left ^ f;
    left = right;
    right = next_right;
  }
  return (left << half_bits_) | right;
}

int64_t GlobalSampler::window_of(int64_t seq_index) const {
  CAIRN_CHECK(seq_index >= 0, "sequence index must be non-negative, got ", seq_index);
  const uint64_t epoch = uint64_t(seq_index / n_windows_);
  const uint64_t pos = uint64_t(seq_index % n_windows_);
  uint64_t y = feistel(pos, uint32_t(epoch), uint32_t(epoch >> 32));
  while (y >= uint64_t(n_windows_)) y = feistel(y, uint32_t(epoch), uint32_t(epoch >> 32));
  return int64_t(y);
}

}  // namespace cairn::data

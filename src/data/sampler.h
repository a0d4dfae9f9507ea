// data/sampler.h — the global data order: which window the i-th sequence of the run reads.
//
// Sequence index i (i = s*B + k*m + j for step s, micro-batch k, row j; DESIGN §2) maps to
//   epoch = i / n_windows,  pos = i % n_windows,  window = perm_{seed,epoch}(pos)
// where perm is a keyed pseudo-random bijection of [0, n_windows). Every epoch visits every
// window exactly once, in a fresh order. window_of() is a pure function of (seed, n_windows,
// i): no state to save, and any rank can compute any sequence's window, which is what makes
// resume and changing the number of ranks bit-exact.
#pragma once

#include <cstdint>

namespace cairn::data {

class GlobalSampler {
 public:
  GlobalSampler(int64_t n_windows, uint64_t seed);

  int64_t n_windows() const { return n_windows_; }
  int64_t epoch_of(int64_t seq_index) const { return seq_index / n_windows_; }
  int64_t window_of(int64_t seq_index) const;

 private:
  // One pass of the Feistel network over [0, 2^(2*half_bits_)).
  uint64_t feistel(uint64_t x, uint32_t epoch_lo, uint32_t epoch_hi) const;

  int64_t n_windows_;
  uint64_t seed_;
  int half_bits_;  // smallest h >= 1 with 2^(2h) >= n_windows_: the Feistel domain is 2^(2h)
};

}  // namespace cairn::data

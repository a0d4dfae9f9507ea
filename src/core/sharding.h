// core/sharding.h — how the canonical flat buffers are split across ranks (ZeRO-1).
//
// Every flat buffer (parameters, gradients, AdamW m and v) has the same length, a multiple
// of kChunkFloats. Rank r of W owns chunks [r*C/W, (r+1)*C/W) (C = number of chunks, integer
// division), i.e. a contiguous element range whose ends are chunk multiples. Grad-norm
// partial sums and logical-hash digests are per chunk, so they never depend on W.
#pragma once

#include <cstdint>

namespace cairn {

inline constexpr int64_t kChunkFloats = 4096;

struct Range {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

inline Range owned_range(int64_t total, int rank, int world) {
  int64_t chunks = total / kChunkFloats;
  return {chunks * rank / world * kChunkFloats, chunks * (rank + 1) / world * kChunkFloats};
}

inline bool is_power_of_two(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

}  // namespace cairn

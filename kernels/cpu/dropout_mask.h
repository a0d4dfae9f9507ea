// kernels/cpu/dropout_mask.h — the dropout mask as a pure function of (site, element index).
//
// Shared contract with the CUDA kernels: element e (int64 index into the tensor being
// dropped; for attention, the index into att [B,NH,T,T]) uses word e & 3 of
//   PhiloxStream{drop.seed, RngPurpose::kDropout}.draw_wide(e >> 2, drop.site,
//                                                           drop.micro_batch, drop.step)
// (64-bit group index and step: the high halves select the key, so masks do not repeat
// past 2^32 groups or steps; below that they are the 32-bit counters' masks.)
// and is kept iff uniform_from_u32(word) >= drop.p. Kept values are scaled by 1/(1-p).
// One Philox call therefore serves four consecutive elements (a "group").
// dropout_group_words, dropout_keep and dropout_scale are host+device: kernels/cuda/dropout.cu
// calls these same functions, so the CUDA masks equal the CPU masks bit for bit.
#pragma once

#include <cstdint>

#include "core/host_device.h"
#include "core/philox.h"
#include "kernels/kernels.h"

namespace cairn::cpu {

// The four random words of group g = e >> 2.
CAIRN_HOST_DEVICE inline Philox4x32 dropout_group_words(const DropoutSite& drop, int64_t group) {
  return PhiloxStream{drop.seed, RngPurpose::kDropout}.draw_wide(uint64_t(group), drop.site, drop.micro_batch,
                                                                 drop.step);
}

CAIRN_HOST_DEVICE inline bool dropout_keep(const DropoutSite& drop, int64_t e) {
  return uniform_from_u32(dropout_group_words(drop, e >> 2).v[e & 3]) >= drop.p;
}

// The inverted-dropout scale, computed the one way both directions use.
CAIRN_HOST_DEVICE inline float dropout_scale(const DropoutSite& drop) { return 1.0f / (1.0f - drop.p); }

// factor[i] = keep(begin + i) ? scale : 0 for i in [0, n): the multiplier of element begin+i.
// Draws each Philox group once.
inline void dropout_factors(float* factor, const DropoutSite& drop, int64_t begin, int64_t n) {
  const float scale = dropout_scale(drop);
  int64_t e = begin;
  const int64_t end = begin + n;
  while (e < end) {
    const int64_t group = e >> 2;
    const Philox4x32 words = dropout_group_words(drop, group);
    const int64_t group_end = (group + 1) * 4 < end ? (group + 1) * 4 : end;
    for (; e < group_end; ++e)
      factor[e - begin] = uniform_from_u32(words.v[e & 3]) >= drop.p ? scale : 0.0f;
  }
}

}  // namespace cairn::cpu

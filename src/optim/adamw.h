// optim/adamw.h — AdamW over this rank's owned slice of the flat buffer (ZeRO-1), the
// learning-rate schedule, and the order-free global gradient norm.
//
// AdamW (Loshchilov & Hutter): bias-corrected moments, decoupled weight decay applied only to
// tensors marked `decay` (matrices and embeddings; not biases or LayerNorm parameters).
// The moments m and v exist only for the owned range [owned.begin, owned.end).
#pragma once

#include <cstdint>
#include <vector>

#include "comm/comm.h"
#include "core/sharding.h"

namespace cairn::optim {

struct AdamWConfig {
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};

// Flat element range [begin, end) of a tensor that receives weight decay.
struct DecayRange {
  int64_t begin;
  int64_t end;
};

class AdamW {
 public:
  AdamW(const AdamWConfig& cfg, std::vector<DecayRange> decay, Range owned);

  // One update of params[owned] from grads_owned (the owned slice of the step gradient),
  // t = 1-based step, grad_scale from clipping.
  void step(float* params_full, const float* grads_owned, float lr, int64_t t, float grad_scale);

  // Frozen flat ranges (train/freeze.h; ascending, disjoint): step() leaves their
  // parameters and moments untouched; zero_frozen() clears their gradient in the owned slice
  // so it does not count in the clipping norm.
  void freeze(std::vector<Range> frozen);
  void zero_frozen(float* grads_owned) const;

  Range owned() const { return owned_; }
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }
  const std::vector<float>& m() const { return m_; }
  const std::vector<float>& v() const { return v_; }

 private:
  AdamWConfig cfg_;
  std::vector<DecayRange> decay_;  // sorted, non-overlapping
  std::vector<Range> frozen_;      // sorted, non-overlapping
  Range owned_;
  std::vector<float> m_, v_;
};

// Linear warmup over `warmup` steps, then cosine decay from lr to min_lr at `total` steps.
// `step` is 0-based: the rate used by the update that produces step+1.
double lr_at(int64_t step, double lr, double min_lr, int64_t warmup, int64_t total);

// sqrt of the sum of squares of the full step gradient, given each rank's owned slice:
// per-chunk sums of squares (chunks of kChunkFloats, independent of W), gathered, added
// left to right. Bitwise identical for every world size.
double global_grad_norm(Comm& comm, const float* grads_owned, Range owned, int64_t total);

}  // namespace cairn::optim

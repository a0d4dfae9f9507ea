// optim/adamw.h — AdamW over this rank's owned slice of the flat buffer (ZeRO-1), the
// learning-rate schedule, and the order-free global gradient norm.
//
// AdamW (Loshchilov & Hutter): bias-corrected moments, decoupled weight decay applied only to
// tensors marked `decay` (matrices and embeddings; not biases or LayerNorm parameters).
// The moments m and v exist only for the owned range [owned.begin, owned.end).
//
// One code path for every device: the moments live on the device of the KernelOps the
// optimizer is built with, every parameter/gradient pointer passed in lives there too, and
// all arithmetic goes through the table (adamw_update, sumsq_chunks, zero). With cpu_ops()
// that is host memory and cairn::cpu; with cuda_ops() device memory and cairn::cuda.
#pragma once

#include <cstdint>
#include <vector>

#include "comm/comm.h"
#include "core/sharding.h"
#include "kernels/ops.h"

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
  AdamW(const AdamWConfig& cfg, std::vector<DecayRange> decay, Range owned, const KernelOps& ops = cpu_ops());

  // One update of params[owned] from grads_owned (the owned slice of the step gradient),
  // t = 1-based step, grad_scale from clipping. Both buffers on the optimizer's device.
  void step(float* params_full, const float* grads_owned, float lr, int64_t t, float grad_scale);

  // Frozen flat ranges (train/freeze.h; ascending, disjoint): step() leaves their
  // parameters and moments untouched; zero_frozen() clears their gradient in the owned slice
  // so it does not count in the clipping norm.
  void freeze(std::vector<Range> frozen);
  void zero_frozen(float* grads_owned) const;

  Range owned() const { return owned_; }
  const KernelOps& ops() const { return *ops_; }
  // The moments of the owned range (owned().size() floats each, on the optimizer's device).
  float* m() { return m_.data(); }
  float* v() { return v_.data(); }
  const float* m() const { return m_.data(); }
  const float* v() const { return v_.data(); }
  void zero_moments();

 private:
  AdamWConfig cfg_;
  std::vector<DecayRange> decay_;  // sorted, non-overlapping
  std::vector<Range> frozen_;      // sorted, non-overlapping
  Range owned_;
  const KernelOps* ops_;
  DeviceBuffer<float> m_, v_;
};

// Linear warmup over `warmup` steps, then cosine decay from lr to min_lr at `total` steps.
// `step` is 0-based: the rate used by the update that produces step+1.
double lr_at(int64_t step, double lr, double min_lr, int64_t warmup, int64_t total);

// sqrt of the sum of squares of the full step gradient, given each rank's owned slice:
// per-chunk sums of squares (chunks of kChunkFloats, independent of W; ops.sumsq_chunks on
// the slice's device into `chunk_sums`, which is (re)allocated there as needed), brought to
// the host, gathered over `comm` (a host Comm: these are a few doubles per chunk) and added
// left to right. Bitwise identical for every world size and, where the device's sumsq_chunks
// is bitwise the CPU's (kernels/cuda/adamw.cu), for every device.
double global_grad_norm(Comm& comm, const KernelOps& ops, const float* grads_owned, Range owned, int64_t total,
                        DeviceBuffer<double>& chunk_sums);
// Host buffers (cpu_ops()).
double global_grad_norm(Comm& comm, const float* grads_owned, Range owned, int64_t total);

}  // namespace cairn::optim

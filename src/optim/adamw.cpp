// optim/adamw.cpp — see adamw.h.
#include "optim/adamw.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cairn::optim {

AdamW::AdamW(const AdamWConfig& cfg, std::vector<DecayRange> decay, Range owned, const KernelOps& ops)
    : cfg_(cfg),
      decay_(std::move(decay)),
      owned_(owned),
      ops_(&ops),
      m_(ops, size_t(owned.size())),  // zero-filled
      v_(ops, size_t(owned.size())) {
  std::sort(decay_.begin(), decay_.end(), [](const DecayRange& a, const DecayRange& b) { return a.begin < b.begin; });
}

void AdamW::step(float* params_full, const float* grads_owned, float lr, int64_t t, float grad_scale) {
  // Split the owned range into runs that do / do not decay, then update each run with one
  // adamw_update (elementwise, so neither the split nor the device's tiling changes the bits).
  struct Run { int64_t begin, end; float wd; };
  std::vector<Run> runs;
  int64_t pos = owned_.begin;
  for (const DecayRange& d : decay_) {
    int64_t b = std::max(d.begin, owned_.begin), e = std::min(d.end, owned_.end);
    if (b >= e) continue;
    if (pos < b) runs.push_back({pos, b, 0.0f});
    runs.push_back({b, e, cfg_.weight_decay});
    pos = e;
  }
  if (pos < owned_.end) runs.push_back({pos, owned_.end, 0.0f});
  if (!frozen_.empty()) {  // cut the frozen ranges out of the runs (elementwise: bits unchanged)
    std::vector<Run> kept;
    for (const Run& r : runs) {
      int64_t b = r.begin;
      for (const Range& f : frozen_) {
        if (f.end <= b || f.begin >= r.end) continue;
        if (f.begin > b) kept.push_back({b, f.begin, r.wd});
        b = std::max(b, f.end);
      }
      if (b < r.end) kept.push_back({b, r.end, r.wd});
    }
    runs = std::move(kept);
  }

  for (const Run& run : runs) {
    const int64_t o = run.begin - owned_.begin;
    ops_->adamw_update(params_full + run.begin, grads_owned + o, m_.data() + o, v_.data() + o, run.end - run.begin,
                       lr, cfg_.beta1, cfg_.beta2, cfg_.eps, run.wd, t, grad_scale);
  }
}

void AdamW::zero_moments() {
  m_.zero();
  v_.zero();
}

void AdamW::freeze(std::vector<Range> frozen) {
  std::sort(frozen.begin(), frozen.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  frozen_ = std::move(frozen);
}

void AdamW::zero_frozen(float* grads_owned) const {
  for (const Range& f : frozen_) {
    const int64_t b = std::max(f.begin, owned_.begin), e = std::min(f.end, owned_.end);
    if (b < e) ops_->zero(grads_owned + (b - owned_.begin), sizeof(float) * size_t(e - b));
  }
}

double lr_at(int64_t step, double lr, double min_lr, int64_t warmup, int64_t total) {
  if (step < warmup) return lr * double(step + 1) / double(warmup);
  if (total <= warmup) return lr;
  double progress = std::min(1.0, double(step - warmup) / double(total - warmup));
  return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * progress));
}

double global_grad_norm(Comm& comm, const KernelOps& ops, const float* grads_owned, Range owned, int64_t total,
                        DeviceBuffer<double>& chunk_sums) {
  const int W = comm.size();
  const int64_t n_chunks = total / kChunkFloats;
  std::vector<double> sums(n_chunks);
  std::vector<int64_t> counts(W), displs(W);
  for (int r = 0; r < W; ++r) {
    Range rr = owned_range(total, r, W);
    counts[r] = rr.size() / kChunkFloats * int64_t(sizeof(double));
    displs[r] = rr.begin / kChunkFloats * int64_t(sizeof(double));
  }
  double* mine = sums.data() + owned.begin / kChunkFloats;
  const int64_t my_chunks = owned.size() / kChunkFloats;
  if (my_chunks > 0) {
    if (chunk_sums.size() != size_t(my_chunks)) chunk_sums = DeviceBuffer<double>(ops, size_t(my_chunks));
    ops.sumsq_chunks(chunk_sums.data(), grads_owned, my_chunks, kChunkFloats);
    chunk_sums.download(mine, size_t(my_chunks));
  }
  if (W > 1) comm.allgatherv_bytes(mine, sums.data(), counts, displs);
  double total_sq = 0;
  for (double s : sums) total_sq += s;
  return std::sqrt(total_sq);
}

double global_grad_norm(Comm& comm, const float* grads_owned, Range owned, int64_t total) {
  DeviceBuffer<double> chunk_sums;
  return global_grad_norm(comm, cpu_ops(), grads_owned, owned, total, chunk_sums);
}

}  // namespace cairn::optim

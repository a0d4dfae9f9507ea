// train/step_profiler.h — run.profile: where the training steps' time went, op by op (the log
// and metrics.jsonl), as one component the training loop feeds.
//
// Timed from the second step of this process on: the first one warms caches and allocates.
// Kernel ops are timed by profiled_ops() (kernels/profile.h); the trainer's own phases
// (reduce-scatter, norm + AdamW, all-gather) come from StepPhases; "other" is the rest of the
// step (data loading, loss agreement, the gradient tree's bookkeeping).
#pragma once

#include <cstdint>

#include "train/metrics.h"

namespace cairn {

class StepProfiler {
 public:
  // `enabled`: run.profile. `first_step`: the step this process starts from (0, or the one
  // resumed at).
  StepProfiler(bool enabled, int64_t first_step, int rank, Metrics& metrics)
      : enabled_(enabled), first_step_(first_step), rank_(rank), metrics_(metrics) {}

  // After each step; `step` is the number of steps completed.
  void step_done(int64_t step, double ms, const StepPhases& phases);
  // After the last step: the table (log) and the "profile" event (metrics.jsonl).
  void report() const;

 private:
  bool enabled_;
  int64_t first_step_;
  int rank_;
  Metrics& metrics_;
  int64_t steps_ = 0;  // steps timed: those after this process's first
  double ms_ = 0;
  StepPhases phases_;
};

}  // namespace cairn

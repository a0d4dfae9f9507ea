// train/evaluator.h — the validation loss as one component: when to evaluate
// (train.eval_every) and how (the first train.eval_batches micro-batches of data.val, split
// over the ranks, no dropout).
#pragma once

#include <cstdint>

#include "comm/comm.h"
#include "data/dataset.h"
#include "models/model.h"
#include "train/config.h"

namespace cairn {

class Evaluator {
 public:
  // `val`: null without data.val (then nothing is ever due). `comm`: the host Comm the
  // losses are gathered over. All three outlive the evaluator.
  Evaluator(const Config& cfg, Comm& comm, models::Model& model, const data::TokenDataset* val)
      : cfg_(cfg), comm_(comm), model_(model), val_(val) {}

  bool enabled() const { return val_ != nullptr; }
  // After `step` steps, inside the loop: every train.eval_every steps, but not after the
  // last one (the final evaluation follows the loop, after the last async save is flushed).
  bool due(int64_t step) const {
    return enabled() && cfg_.train.eval_every > 0 && step % cfg_.train.eval_every == 0 && step < cfg_.train.steps;
  }
  // Collective: the mean loss over the validation micro-batches, each rank computing its
  // contiguous share, gathered and summed left to right (the same bits at any world size).
  // `params`: the full parameters on the model's device.
  double loss(const float* params);

 private:
  const Config& cfg_;
  Comm& comm_;
  models::Model& model_;
  const data::TokenDataset* val_;
};

}  // namespace cairn

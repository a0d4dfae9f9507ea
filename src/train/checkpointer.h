// train/checkpointer.h — the trainer's checkpoint saves as one component (DESIGN §3): when to
// save, how (asynchronously through ckpt::AsyncSaver, or synchronously through staging),
// and what each save cost the run.
//
// The training loop calls, in this order:
//   before_update()        in each step, right before the optimizer update (the only code
//                          that modifies the saved slices): an async save's snapshot must
//                          have been taken, so forward/backward overlap the copy
//   step_done(ms)          after each step: the step time Young/Daly's interval needs
//   poll()                 at each step boundary: commit a finished background save (one
//                          integer vote per step while a save is in flight)
//   maybe_save(step)       at each step boundary: save when checkpoint.every_steps says so
//   save_now(step)         on preemption and after the last step: finish a pending save,
//                          then save synchronously
//   flush()                wait for a pending save and commit it
// Every save is logged and appended to metrics.jsonl: stall (training-thread time),
// snapshot and write time, bytes, GB/s, compression, and checkpointing's share of the
// training time so far; after the first one, with checkpoint.mtbf_hours set, the interval
// Young/Daly's formula recommends (train/checkpoint_interval.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/async_save.h"
#include "checkpoint/snapshot.h"
#include "comm/comm.h"
#include "kernels/ops.h"
#include "train/config.h"
#include "train/metrics.h"

namespace cairn {

class Checkpointer {
 public:
  // What every save holds.
  struct Content {
    ckpt::Layout layout;
    // This rank's live owned slices on `ops`'s device (train/saved_buffers.h), valid and at
    // the same place for the checkpointer's whole life.
    std::vector<ckpt::OwnedSlice> slices;
    std::function<nlohmann::json(int64_t step)> state;  // the state record of a step
  };

  // `control`: the Comm of the votes (comm/votes_comm.h on cuda). The training loop starts
  // now: checkpointing's share of the training time counts from here.
  Checkpointer(const Config& cfg, Comm& control, const KernelOps& ops, Metrics& metrics, Content content);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  void before_update();
  void step_done(double step_ms);
  void poll();
  // false only when a save failed (logged; earlier checkpoints are intact).
  bool maybe_save(int64_t step);
  bool save_now(int64_t step);
  bool flush();  // false if the pending save failed

 private:
  // wait = false saves asynchronously when checkpoint.async is set (finishing a save still
  // in flight first); wait = true flushes any pending save and saves synchronously.
  bool save(int64_t step, bool wait);
  void report(const ckpt::SaveResult& r, bool async);
  void report_interval(const ckpt::SaveResult& r, bool async);

  const Config& cfg_;
  Comm& control_;
  const KernelOps& ops_;
  Metrics& metrics_;
  Content content_;
  std::unique_ptr<ckpt::AsyncSaver> saver_;               // null unless checkpoint.async
  std::unique_ptr<ckpt::SnapshotStaging> sync_staging_;  // synchronous saves from a GPU
  double loop_start_s_ = 0;   // steady clock: for the overhead fraction
  double stall_s_ = 0;        // training-thread seconds spent on checkpoints so far
  double step_ms_sum_ = 0;    // step times, for Young/Daly's step count
  int64_t steps_timed_ = 0;
  bool interval_reported_ = false;
};

}  // namespace cairn

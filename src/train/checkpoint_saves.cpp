// train/checkpoint_saves.cpp — the trainer's side of asynchronous saves, and what every
// save reports. Trainer::save() (train/checkpointing.cpp) starts a save; this file
//   - waits for the snapshot right before the optimizer update (the only code that modifies
//     the saved slices), so forward/backward of the next step overlap the copy;
//   - commits a finished background write at a step boundary (poll_saves, one integer vote
//     per step while a save is in flight), or waits for it (flush_saves: the next save is
//     due, preemption, end of training);
//   - logs each save and appends it to metrics.jsonl: stall (training-thread time), snapshot
//     and write time, bytes, GB/s, and checkpointing's share of the training time so far;
//   - after the first save, with checkpoint.mtbf_hours set, the interval Young/Daly's
//     formula recommends (train/checkpoint_interval.h).
#include <chrono>
#include <cstdio>

#include "comm/collective_wait.h"
#include "core/log.h"
#include "train/checkpoint_interval.h"
#include "train/trainer.h"

namespace cairn {
namespace {

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void Trainer::wait_for_checkpoint_snapshot() {
  if (saver_) ckpt_stall_s_ += saver_->wait_snapshot();
}

void Trainer::poll_saves() {
  if (!saver_) return;
  UntimedCollectives untimed;  // rank 0 may be writing the manifest while the others vote
  if (std::optional<ckpt::AsyncSaveResult> r = saver_->poll(*control_comm_)) report_save(*r, true);
}

bool Trainer::flush_saves() {
  if (!saver_) return true;
  UntimedCollectives untimed;  // waits for every rank's writer
  std::optional<ckpt::AsyncSaveResult> r = saver_->finish(*control_comm_);
  if (!r) return true;
  if (r->writer_wait_seconds > 0.001) {
    char waited[96];
    std::snprintf(waited, sizeof waited, "waited %.3f s for the writer of checkpoint step %lld",
                  r->writer_wait_seconds, (long long)r->step);
    log_info(waited);
  }
  report_save(*r, true);
  return r->commit.ok;
}

// Stall counts what the training thread lost: for a synchronous save all of it, for an
// asynchronous one the start, the snapshot wait, the wait for the writer and the commit.
// The snapshot waits were already added as they happened (wait_for_checkpoint_snapshot), so
// only the rest is added here.
void Trainer::report_save(const ckpt::AsyncSaveResult& r, bool async) {
  const double stall = r.stall_seconds();
  ckpt_stall_s_ += stall - r.snapshot_wait_seconds;
  const double elapsed_s = (now_ms() - loop_start_ms_) / 1000.0;
  const double overhead = elapsed_s > 0 ? ckpt_stall_s_ / elapsed_s : 0.0;
  const ckpt::CommitResult& c = r.commit;
  if (!c.ok) {
    log_warn("checkpoint at step ", r.step, " failed, earlier checkpoints are untouched: ", c.error);
    metrics_->event({{"event", "checkpoint_failed"}, {"step", r.step}, {"error", c.error}});
    return;
  }
  const double gb_per_s = c.write_seconds > 0 ? double(c.bytes) / c.write_seconds / 1e9 : 0.0;
  // The compression ratio is the floats saved over the bytes on disk (headers included).
  const double ratio = c.bytes > 0 ? double(c.logical_bytes) / double(c.bytes) : 0.0;
  // Every save says its ratio (1.000 for plain files: only the safetensors headers differ).
  char line[480], packed[160];
  int n = std::snprintf(packed, sizeof packed, " (%.1f MB of floats, ratio %.3f", double(c.logical_bytes) / 1e6,
                        ratio);
  if (cfg_.checkpoint.incremental)
    n += std::snprintf(packed + n, sizeof packed - size_t(n), "; %lld of %lld pieces unchanged, not rewritten",
                       (long long)c.referenced, (long long)c.pieces);
  std::snprintf(packed + n, sizeof packed - size_t(n), ")");
  std::snprintf(line, sizeof line,
                "checkpoint step %lld (%s): %.1f MB%s written in %.3f s (%.2f GB/s), snapshot %.3f s, "
                "stall %.3f s, wall %.3f s; checkpointing so far %.2f%% of training time",
                (long long)r.step, async ? "async" : "sync", double(c.bytes) / 1e6, packed, c.write_seconds,
                gb_per_s, r.snapshot_seconds, stall, r.wall_seconds, 100.0 * overhead);
  log_info(line, " -> ", c.dir);
  metrics_->event({{"event", "checkpoint"}, {"step", r.step}, {"mode", async ? "async" : "sync"},
                   {"bytes", c.bytes}, {"logical_bytes", c.logical_bytes}, {"ratio", ratio},
                   {"pieces", c.pieces}, {"referenced", c.referenced},
                   {"seconds", r.wall_seconds}, {"stall_s", stall},
                   {"snapshot_s", r.snapshot_seconds}, {"write_s", c.write_seconds},
                   {"snapshot_wait_s", r.snapshot_wait_seconds}, {"writer_wait_s", r.writer_wait_seconds},
                   {"commit_s", r.commit_seconds}, {"gb_per_s", gb_per_s}, {"overhead", overhead},
                   {"logical_hash", c.logical_hash}});
  report_checkpoint_interval(r, async);
}

// The cost that matters is the training thread's: a sync save's whole time, an async save's
// stall. An async save's write (snapshot + write, the slowest rank's) floors the interval.
void Trainer::report_checkpoint_interval(const ckpt::AsyncSaveResult& r, bool async) {
  if (interval_reported_ || cfg_.checkpoint.mtbf_hours <= 0) return;
  interval_reported_ = true;
  const double cost = r.stall_seconds();
  const double floor = async ? r.snapshot_seconds + r.commit.write_seconds : 0.0;
  const double step_s = steps_timed_ > 0 ? step_ms_sum_ / double(steps_timed_) / 1000.0 : 0.0;
  const CheckpointInterval ci = young_daly_interval(cost, cfg_.checkpoint.mtbf_hours * 3600.0, step_s, floor);
  log_info(describe_checkpoint_interval(ci, cost, async, cfg_.checkpoint.mtbf_hours, step_s,
                                        cfg_.checkpoint.every_steps));
  metrics_->event({{"event", "checkpoint_interval"}, {"step", r.step}, {"mtbf_hours", cfg_.checkpoint.mtbf_hours},
                   {"save_cost_s", cost}, {"cost_is", async ? "async_stall" : "sync_save"},
                   {"young_daly_s", ci.young_daly_s}, {"floor_s", ci.floor_s}, {"interval_s", ci.interval_s},
                   {"step_s", step_s}, {"interval_steps", ci.steps},
                   {"configured_steps", cfg_.checkpoint.every_steps}});
}

}  // namespace cairn

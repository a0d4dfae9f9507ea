// train/checkpointer.cpp — see checkpointer.h.
#include "train/checkpointer.h"

#include <chrono>
#include <cstdio>

#include "checkpoint/commit.h"
#include "comm/collective_wait.h"
#include "core/log.h"
#include "train/checkpoint_interval.h"

namespace cairn {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Checkpointer::Checkpointer(const Config& cfg, Comm& control, const KernelOps& ops, Metrics& metrics,
                           Content content)
    : cfg_(cfg), control_(control), ops_(ops), metrics_(metrics), content_(std::move(content)) {
  if (cfg_.checkpoint.async) saver_ = std::make_unique<ckpt::AsyncSaver>(ops_);
  loop_start_s_ = now_seconds();
}

Checkpointer::~Checkpointer() = default;

void Checkpointer::before_update() {
  if (saver_) stall_s_ += saver_->wait_snapshot();
}

void Checkpointer::step_done(double step_ms) {
  step_ms_sum_ += step_ms;
  ++steps_timed_;
}

void Checkpointer::poll() {
  if (!saver_) return;
  UntimedCollectives untimed;  // rank 0 may be writing the manifest while the others vote
  if (std::optional<ckpt::SaveResult> r = saver_->poll(control_)) report(*r, true);
}

bool Checkpointer::maybe_save(int64_t step) {
  const int64_t every = cfg_.checkpoint.every_steps;
  // The last step is saved by save_now, synchronously, after the final evaluation.
  if (every <= 0 || step % every != 0 || step >= cfg_.train.steps) return true;
  return save(step, /*wait=*/false);
}

bool Checkpointer::save_now(int64_t step) { return save(step, /*wait=*/true); }

bool Checkpointer::flush() {
  if (!saver_) return true;
  UntimedCollectives untimed;  // waits for every rank's writer
  std::optional<ckpt::SaveResult> r = saver_->finish(control_);
  if (!r) return true;
  if (r->writer_wait_seconds > 0.001) {
    char waited[96];
    std::snprintf(waited, sizeof waited, "waited %.3f s for the writer of checkpoint step %lld",
                  r->writer_wait_seconds, (long long)r->step);
    log_info(waited);
  }
  report(*r, true);
  return r->commit.ok;
}

// Never two saves in flight: a pending one is finished first.
bool Checkpointer::save(int64_t step, bool wait) {
  UntimedCollectives untimed;  // the commit vote waits for the slowest disk (comm/collective_wait.h)
  const double t0 = now_seconds();
  bool pending_ok = true;
  if (saver_ && saver_->pending()) {
    log_info("checkpoint step ", step, " is due while step ", saver_->pending_step(),
             " is still being written: waiting for it (never two saves in flight)");
    pending_ok = flush();
  }
  const ckpt::Retention retention{cfg_.checkpoint.keep_last, cfg_.checkpoint.keep_every};
  ckpt::ShardOptions options{cfg_.checkpoint.compress, cfg_.checkpoint.incremental, nullptr};
  if (options.incremental) options.previous = ckpt::previous_for_incremental(control_, cfg_.run.dir, step);
  if (saver_ && !wait) {  // the saver snapshots the slices through ops_ (checkpoint/snapshot.h)
    const std::string error = saver_->start(control_, cfg_.run.dir, step, content_.layout, content_.slices,
                                            content_.state(step), retention, options);
    if (error.empty()) return pending_ok;  // reported when it commits
    log_warn("checkpoint at step ", step, " failed, earlier checkpoints are untouched: ", error);
    metrics_.event({{"event", "checkpoint_failed"}, {"step", step}, {"error", error}});
    stall_s_ += now_seconds() - t0;
    return false;
  }
  // Synchronous: the writer reads the slices in place where they are host memory, else from a
  // snapshot through ops_ into staging (kept for the next synchronous save).
  if (!sync_staging_) sync_staging_ = std::make_unique<ckpt::SnapshotStaging>(ops_);
  const ckpt::SaveStats s =
      ckpt::save_checkpoint(control_, cfg_.run.dir, step, content_.layout,
                            ckpt::host_readable(content_.slices, *sync_staging_), content_.state(step), retention,
                            options);
  report(ckpt::SaveResult::synchronous(step, s), false);
  return s.ok;
}

// Stall counts what the training thread lost: for a synchronous save all of it, for an
// asynchronous one the start, the snapshot wait, the wait for the writer and the commit.
// The snapshot waits were already added as they happened (before_update), so only the rest
// is added here.
void Checkpointer::report(const ckpt::SaveResult& r, bool async) {
  const double stall = r.stall_seconds();
  stall_s_ += stall - r.snapshot_wait_seconds;
  const double elapsed_s = now_seconds() - loop_start_s_;
  const double overhead = elapsed_s > 0 ? stall_s_ / elapsed_s : 0.0;
  const ckpt::CommitResult& c = r.commit;
  if (!c.ok) {
    log_warn("checkpoint at step ", r.step, " failed, earlier checkpoints are untouched: ", c.error);
    metrics_.event({{"event", "checkpoint_failed"}, {"step", r.step}, {"error", c.error}});
    return;
  }
  const double gb_per_s = c.write_seconds > 0 ? double(c.bytes) / c.write_seconds / 1e9 : 0.0;
  // The compression ratio is the floats saved over the bytes on disk (headers included).
  const double ratio = c.bytes > 0 ? double(c.logical_bytes) / double(c.bytes) : 0.0;
  // Every save says its ratio (1.000 for plain files: only the safetensors headers differ).
  char line[800], packed[160], cpu[200];
  int n = std::snprintf(packed, sizeof packed, " (%.1f MB of floats, ratio %.3f", double(c.logical_bytes) / 1e6,
                        ratio);
  if (cfg_.checkpoint.incremental)
    n += std::snprintf(packed + n, sizeof packed - size_t(n), "; %lld of %lld pieces unchanged, not rewritten",
                       (long long)c.referenced, (long long)c.pieces);
  std::snprintf(packed + n, sizeof packed - size_t(n), ")");
  // The writer's CPU by phase (the busiest rank's): what an async save costs the cores that
  // train beside it.
  const ckpt::SaveCpu& sc = c.cpu;
  n = std::snprintf(cpu, sizeof cpu, "; save CPU %.3f s: checksums %.3f, digests %.3f, write %.3f", sc.total(),
                    sc.checksums, sc.digests, sc.write);
  if (sc.encode > 0) n += std::snprintf(cpu + n, sizeof cpu - size_t(n), ", zstd %.3f", sc.encode);
  if (sc.hash128 > 0) std::snprintf(cpu + n, sizeof cpu - size_t(n), ", xxh128 %.3f", sc.hash128);
  std::snprintf(line, sizeof line,
                "checkpoint step %lld (%s): %.1f MB%s written in %.3f s (%.2f GB/s), snapshot %.3f s, "
                "stall %.3f s, wall %.3f s%s; checkpointing so far %.2f%% of training time",
                (long long)r.step, async ? "async" : "sync", double(c.bytes) / 1e6, packed, c.write_seconds,
                gb_per_s, r.snapshot_seconds, stall, r.wall_seconds, cpu, 100.0 * overhead);
  log_info(line, " -> ", c.dir);
  metrics_.event({{"event", "checkpoint"}, {"step", r.step}, {"mode", async ? "async" : "sync"},
                  {"bytes", c.bytes}, {"logical_bytes", c.logical_bytes}, {"ratio", ratio},
                  {"pieces", c.pieces}, {"referenced", c.referenced},
                  {"seconds", r.wall_seconds}, {"stall_s", stall},
                  {"snapshot_s", r.snapshot_seconds}, {"write_s", c.write_seconds},
                  {"snapshot_wait_s", r.snapshot_wait_seconds}, {"writer_wait_s", r.writer_wait_seconds},
                  {"commit_s", r.commit_seconds}, {"gb_per_s", gb_per_s}, {"overhead", overhead},
                  {"logical_hash", c.logical_hash}, {"cpu_s", sc.total()}, {"cpu_checksums_s", sc.checksums},
                  {"cpu_digests_s", sc.digests}, {"cpu_hash128_s", sc.hash128}, {"cpu_encode_s", sc.encode},
                  {"cpu_write_s", sc.write}});
  report_interval(r, async);
}

// The cost that matters is the training thread's: a sync save's whole time, an async save's
// stall. An async save's write (snapshot + write, the slowest rank's) floors the interval.
void Checkpointer::report_interval(const ckpt::SaveResult& r, bool async) {
  if (interval_reported_ || cfg_.checkpoint.mtbf_hours <= 0) return;
  interval_reported_ = true;
  const double cost = r.stall_seconds();
  const double floor = async ? r.snapshot_seconds + r.commit.write_seconds : 0.0;
  const double step_s = steps_timed_ > 0 ? step_ms_sum_ / double(steps_timed_) / 1000.0 : 0.0;
  const CheckpointInterval ci = young_daly_interval(cost, cfg_.checkpoint.mtbf_hours * 3600.0, step_s, floor);
  log_info(describe_checkpoint_interval(ci, cost, async, cfg_.checkpoint.mtbf_hours, step_s,
                                        cfg_.checkpoint.every_steps));
  metrics_.event({{"event", "checkpoint_interval"}, {"step", r.step}, {"mtbf_hours", cfg_.checkpoint.mtbf_hours},
                  {"save_cost_s", cost}, {"cost_is", async ? "async_stall" : "sync_save"},
                  {"young_daly_s", ci.young_daly_s}, {"floor_s", ci.floor_s}, {"interval_s", ci.interval_s},
                  {"step_s", step_s}, {"interval_steps", ci.steps},
                  {"configured_steps", cfg_.checkpoint.every_steps}});
}

}  // namespace cairn

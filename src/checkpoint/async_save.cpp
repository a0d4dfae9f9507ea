// checkpoint/async_save.cpp — AsyncSaver: snapshot + writer thread + deferred commit
// (see async_save.h for the timeline and the invariants).
#include "checkpoint/async_save.h"

#include <chrono>

#include "core/error.h"
#include "core/fault.h"

namespace cairn::ckpt {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

AsyncSaver::~AsyncSaver() {
  if (writer_.joinable()) writer_.join();
}

int64_t AsyncSaver::staging_bytes() const { return snapshot_.bytes(); }

std::string AsyncSaver::start(Comm& comm, const std::string& run_dir, int64_t step, const Layout& layout,
                              const std::vector<OwnedSlice>& live, const nlohmann::json& state,
                              const Retention& retention, const ShardOptions& options) {
  const double t0 = now_seconds();
  CAIRN_CHECK(!pending_, "checkpoint step ", step, ": a save of step ", step_,
              " is still in flight (finish() it first: never two saves at once)");
  validate_retention(retention);
  const std::string error = prepare_step_dir_collective(comm, run_dir, step);
  if (!error.empty()) return error;

  pending_ = true;
  run_dir_ = run_dir;
  step_ = step;
  rank_ = comm.rank();
  world_ = comm.size();
  layout_ = layout;
  live_ = live;
  state_ = state;
  retention_ = retention;
  options_ = options;
  snapshot_wait_seconds_ = 0;
  poll_seconds_ = 0;
  started_at_ = t0;
  snapshot_taken_ = false;  // no writer runs now: pending_ was false, the last one joined
  done_.store(false);
  writer_ = std::thread(&AsyncSaver::writer_main, this);
  start_seconds_ = now_seconds() - t0;
  return "";
}

void AsyncSaver::writer_main() {
  const double t0 = now_seconds();
  // 1. Snapshot: the only reads of the live slices, through the device's KernelOps.
  //    Staging is allocated once (off the training thread) and reused.
  std::vector<OwnedSlice> staged;
  std::string snapshot_error;
  try {
    staged = snapshot_.copy(live_);
    fault_point("ckpt.snapshot", step_);  // copies queued (on a GPU: in flight), not landed
    snapshot_.wait();
  } catch (const std::exception& e) {  // e.g. a failed device copy: fail this save, not the run
    snapshot_error = str("snapshot of the owned slices failed: ", e.what());
  }
  snapshot_seconds_ = now_seconds() - t0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_taken_ = true;
  }
  cv_.notify_all();

  // 2. Write from staging; the training thread is free to update the live slices.
  fault_delay("ckpt.async.write", step_);
  fault_point("ckpt.async.write", step_);
  record_ = ShardRecord{};
  write_ok_ = snapshot_error.empty();
  record_.error = snapshot_error;
  if (write_ok_) {
    try {
      ShardOptions options = options_;
      options.direct_io = true;  // less CPU taken from training (FileWriter::kDirect)
      record_ = write_shard(step_tmp_dir(run_dir_, step_), rank_, world_, layout_, staged, options);
    } catch (const std::exception& e) {
      write_ok_ = false;
      record_.error = e.what();
    }
  }
  fault_point("ckpt.shard_written", step_);
  done_.store(true, std::memory_order_release);
}

double AsyncSaver::wait_snapshot() {
  if (!pending_) return 0;
  const double t0 = now_seconds();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return snapshot_taken_; });
  const double waited = now_seconds() - t0;
  snapshot_wait_seconds_ += waited;
  return waited;
}

std::optional<SaveResult> AsyncSaver::poll(Comm& comm) {
  if (!pending_) return std::nullopt;
  const double t0 = now_seconds();
  if (!comm.all_agree(done_.load(std::memory_order_acquire))) {
    poll_seconds_ += now_seconds() - t0;  // the vote is training-thread time too
    return std::nullopt;
  }
  return commit_pending(comm, 0);
}

std::optional<SaveResult> AsyncSaver::finish(Comm& comm) {
  if (!pending_) return std::nullopt;
  const double t0 = now_seconds();
  if (writer_.joinable()) writer_.join();
  return commit_pending(comm, now_seconds() - t0);
}

SaveResult AsyncSaver::commit_pending(Comm& comm, double writer_wait_seconds) {
  if (writer_.joinable()) writer_.join();  // done_ was set: returns at once
  const double t0 = now_seconds();
  SaveResult r;
  r.step = step_;
  r.commit = commit(comm, run_dir_, step_, layout_, record_, write_ok_, state_, retention_);
  fault_point("ckpt.committed", step_);
  const double t1 = now_seconds();
  r.snapshot_seconds = snapshot_seconds_;
  r.start_seconds = start_seconds_;
  r.snapshot_wait_seconds = snapshot_wait_seconds_;
  r.writer_wait_seconds = writer_wait_seconds;
  r.commit_seconds = t1 - t0 + poll_seconds_;
  r.wall_seconds = t1 - started_at_;
  pending_ = false;
  live_.clear();
  state_ = nullptr;
  record_ = ShardRecord{};
  return r;
}

}  // namespace cairn::ckpt

// checkpoint/async_save.h — asynchronous checkpoint saves: snapshot into a staging buffer,
// write on a background thread, commit at a later step boundary (DESIGN.md §3).
//
// One save of step N, on every rank:
//
//   training thread                               writer thread
//   start(): rank 0 creates step_N.tmp/, every
//     rank waits for it; launches the writer -->  copies the live owned slices into
//   returns; the next step's forward/backward       staging (the snapshot: SnapshotStaging,
//     runs while the writer works                   through the KernelOps), signals it,
//                                                   then write_shard() from staging:
//   wait_snapshot() right before the optimizer      .partial, fsync, rename; sets done
//     update, the first thing that modifies the
//     slices (usually returns at once)
//   poll() at every later step boundary: all ranks vote "my writer is done"; once every
//     rank's is, commit() runs the usual protocol (success vote, manifest, rename,
//     `latest`, retention) on the training thread
//   finish(): wait for this rank's writer, then commit (when the next save comes due, on
//     preemption, at the end of training)
//
// The live slices are on the device of the saver's KernelOps: on cuda the snapshot is a
// cudaMemcpyAsync into pinned staging on a side stream, queued after the updates already
// queued, and the writer waits for its event before signalling; on the CPU it is a memcpy.
//
// Invariants:
//   - at most one save in flight: start() requires !pending(); callers finish() first;
//   - staging is allocated once, at the first save, and reused: memory is bounded by one
//     extra copy of the slices this rank owns;
//   - the writer thread never calls Comm (MPI runs THREAD_FUNNELED) and reads the live
//     slices only before it signals the snapshot under mu_; the training thread reads the
//     writer's results only after join(), which orders them;
//   - async and sync saves write byte-identical shards: write_shard sees the same floats;
//   - a write that fails (disk full, ...) fails the vote exactly like a synchronous save:
//     nothing is committed, every rank gets the same one-line error, training goes on.
// Kill/delay points on the writer thread: "ckpt.async.write" (after the snapshot, before
// the write) and "ckpt.shard_written"; on the training thread "ckpt.committed" after commit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/commit.h"
#include "checkpoint/snapshot.h"
#include "kernels/ops.h"

namespace cairn::ckpt {

// How one save went, asynchronous (AsyncSaver) or synchronous (SaveResult::synchronous):
// one record for both, so reporting has one shape. Times in seconds; "stall" is what the
// training thread spent on it, the rest ran beside training.
struct SaveResult {
  int64_t step = 0;
  CommitResult commit;             // ok/error/dir/hash/bytes/write_seconds (slowest rank)
  double snapshot_seconds = 0;     // this rank's copy into staging (writer thread)
  double start_seconds = 0;        // training thread in start() (step_N.tmp/ + launch)
  double snapshot_wait_seconds = 0;  // training thread blocked in wait_snapshot()
  double writer_wait_seconds = 0;  // training thread blocked in finish() for the writer
  double commit_seconds = 0;       // training thread in the done-votes of poll() and the commit
  double wall_seconds = 0;         // start() to the end of the commit
  double stall_seconds() const {
    return start_seconds + snapshot_wait_seconds + writer_wait_seconds + commit_seconds;
  }
  // A synchronous save_checkpoint() as the same record: the training thread waited for all
  // of it, so its whole time counts as commit (and stall).
  static SaveResult synchronous(int64_t step, const SaveStats& s) {
    SaveResult r;
    r.step = step;
    r.commit = s;  // the CommitResult part
    r.commit_seconds = r.wall_seconds = s.seconds;
    return r;
  }
};

class AsyncSaver {
 public:
  // `ops`: the device the live slices are on (their snapshot goes through it).
  explicit AsyncSaver(const KernelOps& ops = cpu_ops()) : snapshot_(ops) {}
  // Waits for a running writer; an uncommitted save stays behind as step_N.tmp/ (which
  // resume cleans up), exactly as if the process had died.
  ~AsyncSaver();
  AsyncSaver(const AsyncSaver&) = delete;
  AsyncSaver& operator=(const AsyncSaver&) = delete;

  // Collective. Starts saving `live` (this rank's owned slices; they must stay valid and
  // unmodified until wait_snapshot() returns) as step `step`. Returns "" when started, or
  // the one-line reason (the same on every rank) when step_N.tmp/ could not be created.
  // Throws cairn::Error, identically on every rank, for invalid arguments or when a save is
  // already pending.
  std::string start(Comm& comm, const std::string& run_dir, int64_t step, const Layout& layout,
                    const std::vector<OwnedSlice>& live, const nlohmann::json& state,
                    const Retention& retention, const ShardOptions& options = {});

  // Local. Blocks until the snapshot of the pending save is taken (at once if none is
  // pending or it was taken already); afterwards the caller may modify the slices.
  // Returns the seconds it waited.
  double wait_snapshot();

  bool pending() const { return pending_; }
  int64_t pending_step() const { return step_; }

  // Collective (every rank at the same step boundary). Commits the pending save when every
  // rank's writer is done; nullopt while some writer is still busy or nothing is pending.
  std::optional<SaveResult> poll(Comm& comm);
  // Collective. Waits for this rank's writer, then commits. nullopt when nothing is pending.
  std::optional<SaveResult> finish(Comm& comm);

  // Bytes of staging memory held (0 before the first save).
  int64_t staging_bytes() const;

 private:
  void writer_main();
  SaveResult commit_pending(Comm& comm, double writer_wait_seconds);

  // The pending request; written by start() before the writer thread is created and
  // read-only afterwards (thread creation orders them).
  bool pending_ = false;
  std::string run_dir_;
  int64_t step_ = -1;
  int rank_ = 0, world_ = 1;
  Layout layout_;
  std::vector<OwnedSlice> live_;
  nlohmann::json state_;
  Retention retention_;
  ShardOptions options_;
  double start_seconds_ = 0, snapshot_wait_seconds_ = 0, poll_seconds_ = 0;
  double started_at_ = 0;  // steady clock, seconds

  // Owned by the writer thread while it runs; the training thread touches them only
  // after join() (staging is (re)allocated by the writer, reused across saves).
  SnapshotStaging snapshot_;
  ShardRecord record_;
  bool write_ok_ = false;
  double snapshot_seconds_ = 0;

  std::thread writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool snapshot_taken_ = false;   // guarded by mu_
  std::atomic<bool> done_{false};  // the writer finished (poll's hint; join orders data)
};

}  // namespace cairn::ckpt

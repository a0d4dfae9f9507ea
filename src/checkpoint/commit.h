// checkpoint/commit.h — saving a checkpoint: the commit protocol (DESIGN.md §3).
//
//   1. rank 0 creates checkpoints/step_N.tmp/ (removing a stale one)        prepare_step_dir
//   2. every rank writes <file>.partial, fsyncs, renames to <file>          write_shard (shard.h)
//   3. every rank votes; if any failed, rank 0 removes step_N.tmp/ and      commit
//      every rank gets the same failed CommitResult: nothing is committed
//   4. rank 0 gathers the shard records, writes manifest.json (temp,        commit_records
//      fsync, rename), renames step_N.tmp -> step_N, fsyncs checkpoints/,
//      replaces `latest` (temp, fsync, rename, fsync), applies retention
//   5. rank 0 broadcasts the result; a final barrier keeps ranks together
// save_checkpoint() runs 1-5 synchronously; AsyncSaver (checkpoint/async_save.h) runs step 2
// on a writer thread and 3-5 at a later step boundary.
//
// A save that fails (disk full, read-only directory, permissions, ...) never touches a
// committed checkpoint; it returns ok = false with one line naming the file and the OS
// reason, on every rank, so the trainer can log it and carry on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/run_dir.h"
#include "checkpoint/shard.h"
#include "checkpoint/state.h"
#include "comm/comm.h"

namespace cairn::ckpt {

struct CommitResult {
  bool ok = false;
  std::string error;         // one line, when !ok
  std::string dir;           // the committed checkpoint directory
  std::string logical_hash;  // checkpoint/logical_hash.h
  int64_t bytes = 0;         // all shards together
  int64_t logical_bytes = 0; // the floats saved (buffers x total x 4): bytes / this = ratio
  int64_t pieces = 0;        // pieces in the checkpoint ...
  int64_t referenced = 0;    // ... of which an incremental save referenced (not written)
  double write_seconds = 0;  // the slowest rank's write_shard (ShardRecord::seconds)
  SaveCpu cpu;               // per phase, the busiest rank's CPU seconds (ShardRecord::cpu)
  std::vector<std::string> removed;  // checkpoints removed by retention
};

// What save_checkpoint() returns: the commit's result (every rank's, the slowest rank's
// write_seconds) and the save's own wall time.
struct SaveStats : CommitResult {
  double seconds = 0;    // wall time of the whole save, commit included
  double gb_per_s = 0;   // bytes / seconds / 1e9
};

// Rank 0, step 1: creates checkpoints/ if needed and an empty step_N.tmp/, returns its path.
// run_dir itself must exist (a run directory that vanished is an error, not recreated).
std::string prepare_step_dir(const std::string& run_dir, int64_t step);

// Collective, step 1: rank 0 runs prepare_step_dir, every rank waits for it. Returns "" or
// the one-line reason ("checkpoint step N not saved: ..."), the same on every rank.
std::string prepare_step_dir_collective(Comm& comm, const std::string& run_dir, int64_t step);

// Collective: what an incremental save of `step` may reference — the pieces of the newest
// committed checkpoint before `step` (rank 0 picks it, every rank reads its manifest).
// Null when there is none or its manifest cannot be read (logged): then every piece is
// written.
std::shared_ptr<const PreviousPieces> previous_for_incremental(Comm& comm, const std::string& run_dir, int64_t step);

// Collective, steps 3-5. `mine` is this rank's record (its `error` says why when
// !my_write_ok). Throws only for invalid arguments (e.g. retention), identically on every
// rank; I/O failures come back as ok = false.
CommitResult commit(Comm& comm, const std::string& run_dir, int64_t step, const Layout& layout,
                    const ShardRecord& mine, bool my_write_ok, const nlohmann::json& state,
                    const Retention& retention);

// Step 4 on rank 0, given every rank's record (records[r] from rank r, the shards already
// in step_N.tmp/). Throws cairn::Error on failure, after removing step_N.tmp/. Tests use it
// to commit shards written by several simulated ranks.
CommitResult commit_records(const std::string& run_dir, int64_t step, const Layout& layout,
                            const std::vector<ShardRecord>& records, const nlohmann::json& state,
                            const Retention& retention);

// Collective: steps 1-5. `slices` are this rank's owned ranges of each buffer, in order
// ("params", "adam_m", "adam_v"); `state` the trainer's record (state["logical"] is hashed).
SaveStats save_checkpoint(Comm& comm, const std::string& run_dir, int64_t step, const Layout& layout,
                          const std::vector<OwnedSlice>& slices, const nlohmann::json& state,
                          const Retention& retention, const ShardOptions& options = {});

}  // namespace cairn::ckpt

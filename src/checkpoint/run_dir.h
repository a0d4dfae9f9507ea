// checkpoint/run_dir.h — the checkpoints/ directory of a run: names, listing, `latest`,
// retention and clean-up of what interrupted saves leave behind.
//
//   <run_dir>/checkpoints/step_00000500/        committed (has a manifest; renamed into place)
//   <run_dir>/checkpoints/step_00000600.tmp/    a save in progress, or left by a crash
//   <run_dir>/checkpoints/step_00000100.old/    being removed (retention)
//   <run_dir>/checkpoints/step_00000100.replaced/  a committed checkpoint being replaced by a
//                                               new save of its step (only where the file
//                                               system cannot exchange two names atomically)
//   <run_dir>/checkpoints/latest                "step_00000500\n", replaced atomically
//
// Only rank 0 changes this directory. Nothing here ever modifies a committed checkpoint
// except retention, which renames it to *.old (no longer a checkpoint) before removing it,
// so a crash mid-removal never leaves a half-deleted directory that looks committed, and
// never removes one that a kept incremental checkpoint still refers to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn::ckpt {

inline constexpr const char* kLatestFile = "latest";
inline constexpr const char* kReplacedSuffix = ".replaced";

struct Retention {
  int keep_last = 3;       // newest committed checkpoints to keep; at least 2
  int64_t keep_every = 0;  // also keep every checkpoint whose step % keep_every == 0; 0 = off
};

// Throws unless keep_last >= 2 (the newest checkpoint may be incomplete or corrupt, and
// resume must be able to fall back to the previous one) and keep_every >= 0.
void validate_retention(const Retention& r);

std::string checkpoints_dir(const std::string& run_dir);                // <run_dir>/checkpoints
std::string step_dir_name(int64_t step);                                 // "step_00000500"
std::string step_dir(const std::string& run_dir, int64_t step);          // .../step_00000500
std::string step_tmp_dir(const std::string& run_dir, int64_t step);      // .../step_00000500.tmp

// The step of a committed directory name "step_<digits>", or -1 for anything else.
int64_t parse_step_dir_name(const std::string& name);

// Committed checkpoint directories (full paths), ascending by step. *.tmp / *.old excluded.
std::vector<std::string> list_checkpoints(const std::string& run_dir);

// What checkpoints/latest names (a full path), if the file exists and names a directory.
std::optional<std::string> read_latest(const std::string& run_dir);
// Replace checkpoints/latest with `dir_name` (write-temp, fsync, rename, fsync directory).
void write_latest(const std::string& run_dir, const std::string& dir_name);

// Removes step_*.tmp and step_*.old directories and a stale latest.tmp, logging each;
// returns what was removed. A step_N.replaced (a re-save interrupted between its two renames)
// is renamed back to step_N when step_N is missing (logged), else removed: a committed
// checkpoint is never lost to a crash mid-replace. Call on rank 0 before resuming or saving.
std::vector<std::string> cleanup_tmp(const std::string& run_dir);

// Applies retention after a commit: keeps the newest keep_last committed checkpoints, every
// keep_every-th, `keep` (the one just committed), and every checkpoint a kept one refers to
// (incremental saves, transitively); removes the rest. Returns the removed directories.
// Names ("step_NNNNNNNN") of the checkpoints whose shards hold pieces that checkpoint `dir`
// refers to (incremental saves); empty when it refers to none or its manifest is unreadable.
std::vector<std::string> referenced_checkpoints(const std::string& dir);

std::vector<std::string> apply_retention(const std::string& run_dir, const Retention& r,
                                         const std::string& keep);

}  // namespace cairn::ckpt

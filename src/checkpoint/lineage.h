// checkpoint/lineage.h — which checkpoints of a run directory belong to the run that was
// started last (docs/checkpoint-format.md "Lineage").
//
// A run directory can hold more than one history: `--resume none` starts afresh, `--resume
// PATH` rolls back to an earlier checkpoint, maybe with another config. Each such start begins
// a new *branch*; <run_dir>/lineage.json (written atomically, before anything is saved) names
// the branch being trained and where it came from, and every manifest records the lineage of
// the branch that wrote it:
//   {"format": "cairn-lineage", "branch": "20261206T020000Z-1a2b3c4d",
//    "ancestors": [{"branch": "20261206T013000Z-9f8e7d6c", "step": 45}, ...]}
// ancestors[0] is the checkpoint the branch started from, ancestors[1] the one that branch
// started from, and so on (empty for a fresh start). A checkpoint (branch b, step s) is in
// the lineage when b is the branch, or b = ancestors[i].branch and s <= ancestors[i].step.
// Checkpoints written before lineages existed (or by `ckpt import`) have branch "".
//
// Resume (--resume auto), retention and incremental saves see only the lineage's
// checkpoints; a new branch moves every other committed checkpoint to
// checkpoints/abandoned-<UTC time>/ and says so (nothing is deleted). Without lineage.json (a
// run directory from before lineages) every checkpoint counts, as before.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cairn::ckpt {

inline constexpr const char* kLineageFile = "lineage.json";

struct LineageStep {
  std::string branch;
  int64_t step = 0;
};

struct Lineage {
  std::string branch;                   // "" for checkpoints from before lineages
  std::vector<LineageStep> ancestors;   // where it started, nearest first

  bool contains(const std::string& branch, int64_t step) const;
  nlohmann::json to_json() const;  // {"branch", "ancestors"}
  // Throws one line naming `where` for anything malformed.
  static Lineage from_json(const nlohmann::json& j, const std::string& where);
  // A new branch starting from checkpoint `step` of `from` (its own lineage).
  static Lineage branch_from(const Lineage& from, int64_t step);
};

std::string lineage_path(const std::string& run_dir);  // <run_dir>/lineage.json
// The run directory's lineage; nullopt when it has no lineage.json. Throws naming the file if
// it is damaged (fix: restore it, or delete it to count every checkpoint).
std::optional<Lineage> read_lineage(const std::string& run_dir);
void write_lineage(const std::string& run_dir, const Lineage& lineage);  // temp, fsync, rename
// "<UTC time>-<8 random hex digits>": unique per start.
std::string new_branch_id();

// The lineage recorded in checkpoint `dir`'s manifest (branch "" when it records none), or
// nullopt when the manifest is missing or unreadable (not known to belong to any branch).
std::optional<Lineage> checkpoint_lineage(const std::string& dir);

// Committed checkpoints of run_dir (full paths, ascending) in its lineage; those whose
// manifest cannot be read are included only with `unreadable` (resume tries them, says why
// it skips them; retention and incremental saves leave them alone).
std::vector<std::string> lineage_checkpoints(const std::string& run_dir, bool unreadable);

// After lineage.json names the branch: moves every committed checkpoint outside `lineage` to
// checkpoints/abandoned-<UTC time>/ (with hard links to the shards an abandoned incremental
// checkpoint refers to, so each stays complete) and logs one line saying where. With
// `new_branch` (nothing of it saved yet) a step_* whose manifest cannot be read goes too when
// its step is past where the branch starts: it cannot be the branch's, and left in place it
// would be tried, and counted as damaged, by every later --resume auto. Returns the moved
// directories (their old paths).
std::vector<std::string> set_aside_other_branches(const std::string& run_dir, const Lineage& lineage,
                                                  bool new_branch);

}  // namespace cairn::ckpt

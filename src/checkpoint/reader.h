// checkpoint/reader.h — opening, validating and reading checkpoints, of any world size.
//
// open_checkpoint() parses the manifest and checks every shard exists with the manifest's
// size and is a valid safetensors file whose pieces are exactly the manifest's (pieces an
// incremental save referenced are found in the earlier checkpoint's shard); with
// verify_checksums it also recomputes every piece's XXH3-64 (parallel over pieces). Errors
// are one line naming the file, e.g.
//   "runs/a/checkpoints/step_00000500/rank_00001-of-00004.safetensors: checksum mismatch in
//    piece params/h.0.attn.c_attn.weight[0:4096] (file corrupt; an earlier checkpoint may be used)"
// read_flat_range() is resharding: any element range of any buffer, read with pread from
// whichever shards hold it, touching only the bytes needed. Opened with kLazy, a checkpoint
// opens a shard (and checks it against the manifest) only when a read first needs it: a rank
// resuming on W' of a checkpoint from W ranks opens the manifest and the O(W/W' + 1) shards
// that overlap the ranges it owns, not all W.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/manifest.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/state.h"

namespace cairn {
class Progress;  // core/progress.h
}

namespace cairn::ckpt {

struct Checkpoint {
  // Where the elements of one buffer live: flat [begin, end) is piece `piece` of
  // manifest.shards[shard], stored in file(file) (file == shard, or for a piece an
  // incremental save referenced, the earlier checkpoint's shard that holds it).
  struct PieceRef {
    int64_t begin = 0;
    int64_t end = 0;
    int shard = 0;
    int piece = 0;
    int file = 0;
  };

  std::string dir;
  Manifest manifest;
  std::map<std::string, std::vector<PieceRef>> pieces;  // per buffer, ascending begin
  // Check the XXH3-64 of every piece that a read covers entirely.
  bool verify_reads = false;

  int64_t step() const { return manifest.step; }
  const Layout& layout() const { return manifest.layout; }
  const nlohmann::json& state() const { return manifest.state; }
  bool has_buffer(const std::string& buffer) const { return pieces.count(buffer) > 0; }

  // File i: rank i's shard for i < world size, then the earlier checkpoints' shards that
  // referenced pieces live in. Opened and checked against the manifest on first use (at
  // open_checkpoint unless kLazy); thread safe. Throws, naming the file, when it is missing,
  // truncated or not what the manifest says.
  const SafetensorsFile& file(int i) const;
  // The tensor holding a piece in its file.
  const TensorEntry& entry(const PieceRef& p) const;
  // How many files have been opened so far.
  int files_opened() const;

  struct Files;  // reader.cpp
  std::shared_ptr<Files> files;
};

enum class OpenMode {
  kAll,   // open and check every shard now (tools, the choice of a checkpoint to resume)
  kLazy,  // only the manifest now; each shard when a read first needs it (every rank's resume)
};

// Opens `dir` (a step directory). verify_checksums (kAll only) also checks every piece's
// checksum now, and sets verify_reads.
Checkpoint open_checkpoint(const std::string& dir, bool verify_checksums, OpenMode mode = OpenMode::kAll);

// What a caller adds to "opens" (e.g. the trainer's state record, train/checkpoint_state.h):
// throws, naming the file and key, for a checkpoint it cannot use.
using CheckpointCheck = std::function<void(const Checkpoint&)>;

// The newest committed checkpoint of run_dir, of a step below before_step, that opens
// (with verify: whose checksums hold) and passes `check`; each one skipped is logged as a
// warning with the reason and counted in *skipped. nullopt if none.
std::optional<Checkpoint> find_resume_checkpoint(const std::string& run_dir, bool verify,
                                                 int64_t before_step = INT64_MAX, const CheckpointCheck& check = {},
                                                 int* skipped = nullptr);

// A checkpoint directory as it is, or a run directory (or its checkpoints/) meaning its
// newest checkpoint that opens and passes `check`. Throws naming `path` if neither.
std::string resolve_checkpoint_path(const std::string& path, const CheckpointCheck& check = {});

// Elements [begin, end) of `buffer` into out[0, end - begin). Reads only the needed bytes,
// in 16 MiB blocks on 4 reader threads; with ckpt.verify_reads, checks the checksum of every
// piece it reads whole, each as soon as its last block is in (overlapping the other reads).
// Adds the bytes read to `progress` as it goes, when given. Thread safe.
void read_flat_range(const Checkpoint& ckpt, const std::string& buffer, int64_t begin, int64_t end, float* out,
                     Progress* progress = nullptr);

// Checks the checksums of the pieces of `buffer` that [begin, end) covers only in part (which
// read_flat_range cannot check): a resuming rank whose owned range cuts pieces calls it so
// that, over all ranks, every piece is verified. Throws like read_flat_range.
void verify_partial_pieces(const Checkpoint& ckpt, const std::string& buffer, int64_t begin, int64_t end);

// Throws one line naming the first difference between the checkpoint's layout and the
// model's (a tensor only one has, a shape, an offset, the total).
void check_layout_matches(const Checkpoint& ckpt, const Layout& expected);

}  // namespace cairn::ckpt

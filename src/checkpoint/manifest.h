// checkpoint/manifest.h — manifest.json: the table of contents of one checkpoint.
//
// Written last, by rank 0; a step directory without a valid manifest is not a checkpoint.
//   {"format": "cairn-checkpoint", "format_version": 1, "step": 500, "world_size": 4,
//    "created": "2025-01-31T12:00:00Z", "buffers": ["params", "adam_m", "adam_v"],
//    "layout": Layout::to_json(),
//    "shards": [{"rank": 0, "file": "rank_00000-of-00004.safetensors", "bytes": 123,
//                "pieces": [{"name": "params/wte.weight[0:4096]", "buffer": "params",
//                            "begin": 0, "end": 4096, "offset": 1024, "xxh3": "<16 hex>"},
//                           ...]}, ...],
//    "logical_hash": "<64 hex>",   (checkpoint/logical_hash.h)
//    "state": {...},               (the trainer's record, opaque here; state["logical"] is
//                                   hashed)
//    "lineage": {"branch": ..., "ancestors": [...]}}   (optional; checkpoint/lineage.h)
// The parser is strict: missing fields, wrong types, a shard file name that is not the
// plain "rank_%05d-of-%05d.safetensors" for its rank (anything with '/', '..' or an
// absolute path would leave the checkpoint directory and is refused), and pieces that do
// not cover every buffer exactly once all fail with one line naming the manifest file.
// Format version 2 adds encoded pieces ("codec", "stored") and references to an earlier
// checkpoint's shard ("ref": "step_NNNNNNNN/rank_RRRRR-of-WWWWW.safetensors", nothing else).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/shard.h"
#include "checkpoint/state.h"

namespace cairn::ckpt {

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kCheckpointFormat = "cairn-checkpoint";
inline constexpr int64_t kMaxManifestBytes = int64_t(256) << 20;

struct ManifestShard {
  int rank = 0;
  std::string file;
  int64_t bytes = 0;
  std::vector<PieceRecord> pieces;
};

struct Manifest {
  int format_version = kFormatVersionLatest;
  int64_t step = 0;
  int world_size = 1;
  std::string created;
  std::vector<std::string> buffers;
  Layout layout;
  std::vector<ManifestShard> shards;  // shards[r] is rank r's
  std::string logical_hash;
  nlohmann::json state = nlohmann::json::object();
  // The lineage of the branch that wrote it (checkpoint/lineage.h); null (absent from the
  // file) for checkpoints written without a run directory lineage.
  nlohmann::json lineage;

  nlohmann::json to_json() const;
  // `path` names the manifest in errors.
  static Manifest from_json(const nlohmann::json& j, const std::string& path);
  static Manifest read(const std::string& path);
};

// The manifest for a step from every rank's record (records[r] from rank r); checks that
// the pieces tile every buffer exactly once. logical_hash is computed from the records'
// chunk digests and logical_part(state). `created` is now, UTC.
Manifest build_manifest(int64_t step, const Layout& layout, const std::vector<ShardRecord>& records,
                        const nlohmann::json& state);

// Throws (prefixed by `path`) unless the shards and pieces are consistent and tile every
// buffer of the layout exactly once. Called by from_json and build_manifest.
void validate_manifest(const Manifest& m, const std::string& path);

// True for a plain file name that stays in its directory: no '/', no "..", not absolute.
bool is_plain_file_name(const std::string& name);

// The step of a piece reference "step_NNNNNNNN/rank_RRRRR-of-WWWWW.safetensors" (a shard of
// a sibling checkpoint under checkpoints/), or -1 for anything else.
int64_t reference_step(const std::string& ref);

// What an incremental save after checkpoint `m` (directory name `dir_name`, e.g.
// "step_00000500") may reference: its pieces that carry an h128, each located in the file
// that holds its bytes.
std::shared_ptr<const PreviousPieces> previous_pieces(const Manifest& m, const std::string& dir_name);

}  // namespace cairn::ckpt

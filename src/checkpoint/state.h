// checkpoint/state.h — what the checkpoint subsystem is handed and gives back.
//
// checkpoint/ knows nothing of GPT: it saves named flat fp32 buffers that share one
// canonical layout (parameters, AdamW m, AdamW v), a tensor table describing that layout
// (used by inspect, export and the logical hash), and a JSON record of small state (step,
// LR schedule, loader, RNG, resolved config, model config). Each rank owns one contiguous
// range [begin, end) of every buffer (ZeRO-1) and writes only that range.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/sharding.h"

namespace cairn::ckpt {

// Manifest format versions. 1: plain pieces. 2 adds encoded (compressed) pieces and
// references to an earlier checkpoint's pieces. 3 changes only the logical hash's definition
// to a tree, 4 (what cairn writes now) only its leaves to a SHA-256 of each chunk's XXH3-128
// (checkpoint/logical_hash.h). Readers take all four; shard files are unchanged (their
// __metadata__ says "1", or "2" with encoded pieces or references).
inline constexpr int kFormatVersion = 1;
inline constexpr int kFormatVersionEncoded = 2;
inline constexpr int kFormatVersionTreeHash = 3;
inline constexpr int kFormatVersionXxhLeaves = 4;
inline constexpr int kFormatVersionLatest = kFormatVersionXxhLeaves;

// One tensor of the canonical layout: elements [offset, offset + numel) of each flat buffer.
struct TensorInfo {
  std::string name;             // HF GPT-2 name, e.g. "h.0.attn.c_attn.weight"
  std::vector<int64_t> shape;
  int64_t offset = 0;           // in floats
  int64_t numel = 0;
  // What `ckpt export` writes: the first prod(export_shape) elements of the tensor, e.g. only
  // the real vocabulary rows of a padded embedding. Empty means `shape`.
  std::vector<int64_t> export_shape;
};

struct Layout {
  std::vector<TensorInfo> tensors;  // canonical order, ascending offsets, non-overlapping
  int64_t total = 0;                // floats per flat buffer, a multiple of kChunkFloats
                                    // (core/sharding.h)
  nlohmann::json to_json() const;
  static Layout from_json(const nlohmann::json& j);  // validates; throws cairn::Error
};

// The range of one flat buffer this rank owns, with a pointer to its data.
struct OwnedSlice {
  std::string buffer;   // "params", "adam_m" or "adam_v"
  const float* data;    // data[i] is element begin + i of the flat buffer
  int64_t begin = 0;
  int64_t end = 0;
};

}  // namespace cairn::ckpt

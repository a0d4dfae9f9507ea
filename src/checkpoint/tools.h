// checkpoint/tools.h — what `cairn ckpt inspect|verify|hash|diff|export` do, as library
// functions writing to a stream (the CLI in cli/cmd_ckpt.cpp only parses arguments).
#pragma once

#include <ostream>
#include <string>

#include "checkpoint/reader.h"
#include "core/progress.h"

namespace cairn::ckpt {

// Step, world size, shards with sizes, buffers, tensors with shapes, and the state record
// (config included).
void inspect_checkpoint(const Checkpoint& ckpt, std::ostream& out);

// Opens `dir` with full verification (structure, sizes, every piece's checksum), runs
// `check` (what resume also requires of the state record) and recomputes the logical hash.
// Prints "OK <dir>" or "FAILED <dir>: <reason naming the file>" (the reason may name another
// checkpoint's file, one an incremental save refers to); returns whether it held.
bool verify_checkpoint(const std::string& dir, std::ostream& out, const CheckpointCheck& check = {});

// The logical hash (checkpoint/logical_hash.h) recomputed from the shard files, reading
// every buffer chunk by chunk.
std::string recompute_logical_hash(const Checkpoint& ckpt);

// Compares two checkpoints of any world sizes. Returns true when the layouts, buffer lists,
// every element of every buffer (bitwise) and the logical state are equal; otherwise
// prints the first tensor that differs ("<buffer>/<name>") with its max abs difference and
// returns false.
bool diff_checkpoints(const Checkpoint& a, const Checkpoint& b, std::ostream& out);

// Writes the consolidated "params" buffer as a plain safetensors file: one F32 tensor per
// layout tensor, named TensorInfo::name, shaped export_shape (or shape), __metadata__
// {"format": "pt"}. Written to out_path + ".partial", then renamed.
void export_params(const Checkpoint& ckpt, const std::string& out_path);


}  // namespace cairn::ckpt

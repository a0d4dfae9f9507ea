// train/checkpoint_state.h — the trainer's record in a checkpoint manifest's "state" (written
// by Trainer::state_json, train/checkpointing.cpp; a `ckpt import` writes the imported form,
// train/hf_import.h), checked in one place before anything reads it.
//
// Resume (choosing the checkpoint), `cairn ckpt verify` and `cairn sample` all call
// check_checkpoint_state, so verify fails on exactly the records resume would refuse, and
// resume skips a damaged record (and falls back) instead of failing on the first missing
// key. The manifest's structure is checked by checkpoint/manifest.h; this is what the
// trainer adds: every key it reads, with its type, and that `config` parses.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "checkpoint/reader.h"

namespace cairn {

// Throws one line naming the manifest and the key, e.g.
//   "R/checkpoints/step_00000040/manifest.json: state.logical.loader.seed must be an integer
//    (the manifest is damaged; an earlier checkpoint may be used)"
void check_checkpoint_state(const nlohmann::json& state, int64_t step, const std::string& manifest_path);

// The same for an opened checkpoint: a ckpt::CheckpointCheck for find_resume_checkpoint,
// resolve_checkpoint_path and verify_checkpoint.
void check_checkpoint_state_of(const ckpt::Checkpoint& c);

}  // namespace cairn

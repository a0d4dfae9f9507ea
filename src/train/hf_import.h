// train/hf_import.h — `cairn ckpt import`: a Hugging Face model of the config's model.arch
// turned into a step-0 cairn checkpoint, so training or fine-tuning starts from pretrained
// weights.
//
// The input is named as a model directory, its model.safetensors, or the
// model.safetensors.index.json of a sharded save (checkpoint/hf_weights.h). The family
// (models/model.h, HfNames) says how its tensors may appear: for gpt2, what
// `GPT2LMHeadModel.save_pretrained` (or the Hub's openai-community/gpt2) writes -- names with
// or without the "transformer." prefix, Conv1D weights stored [in, out] (cairn's own layout,
// copied as they are), the LM head tied to `wte.weight` (an `lm_head.weight` is accepted only
// if it equals `wte.weight`), and the attention-mask buffers `h.N.attn.bias` /
// `h.N.attn.masked_bias` (ignored). F32, F16 and BF16 are read (converted to fp32). Every
// tensor of the config's layout must be present with the config's shape; otherwise one error
// lists what is missing, unexpected or differently shaped, and which model the file looks
// like. A `config.json` beside the file is checked too (n_head cannot be seen in the shapes).
// A model.seq_len shorter than the file's position table (n_positions) keeps its first
// seq_len rows and says so in a log line: a model's outputs on sequences of up to seq_len
// tokens do not depend on the later rows.
//
// The checkpoint written (RUN_DIR/checkpoints/step_00000000, world size 1):
//   params   the imported tensors; padded vocabulary rows and inter-tensor padding zero
//   adam_m, adam_v   zero (a fresh optimizer)
//   state    {"logical": {"step": 0, "imported": true}, "imported": {source, format, ...},
//             "config": resolved TOML, "model": {...}, "world_size": 1}
// The "imported" record is the marker the trainer accepts in place of loader and data
// identity (there is no data order to continue: step 0 with the new run's own seed and data).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/config.h"

namespace cairn {

struct ImportReport {
  std::string checkpoint_dir;        // RUN_DIR/checkpoints/step_00000000
  int64_t tensors = 0;               // tensors copied into the layout
  int64_t parameters = 0;            // real parameters (padding excluded)
  std::vector<std::string> ignored;  // file tensors not imported (mask buffers, tied lm_head)
  std::string source_dtype;          // e.g. "F32"
};

// Reads `hf_path` (a directory, a safetensors file or an index), checks it against `cfg.model`, writes the step-0 checkpoint and
// out_dir/config.toml (cfg with run.dir = out_dir). Refuses an out_dir that already holds a
// committed checkpoint. Throws cairn::Error with one line naming the file and what differs.
ImportReport import_hf(const std::string& hf_path, Config cfg, const std::string& out_dir);

// True when a checkpoint state record comes from import_hf.
bool is_imported_state(const nlohmann::json& state);

}  // namespace cairn

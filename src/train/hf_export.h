// train/hf_export.h — `cairn ckpt export`: a checkpoint's parameters for Hugging Face.
//
//   OUT ending in ".safetensors"   one safetensors file (checkpoint/tools.h export_params)
//   any other OUT (a directory,    OUT/model.safetensors and OUT/config.json, created as
//   existing or not)               needed, so `GPT2LMHeadModel.from_pretrained(OUT)` loads it
//                                  as it is
// config.json is built from the checkpoint's recorded model (state.model): GPT-2's keys,
// tanh GELU, LayerNorm epsilon 1e-5, the LM head tied to wte, float32. When the checkpoint's
// run directory holds the run's tokenizer.json, it is copied to OUT too (and its
// <|endoftext|> id becomes bos/eos_token_id), so AutoTokenizer.from_pretrained(OUT) works; a
// tiktoken ranks file is not (transformers does not read it: a warning says so). Each file is written
// beside its final name and renamed into place, so an interrupted export leaves the previous
// files or none, never a torn one.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/reader.h"

namespace cairn {

// Writes the export; returns the files written.
std::vector<std::string> export_hf(const ckpt::Checkpoint& ckpt, const std::string& out);

// GPT-2's config.json for a checkpoint's state.model record ({n_layer, n_head, n_embd,
// seq_len, vocab_size, dropout}).
nlohmann::json gpt2_hf_config(const nlohmann::json& model);

}  // namespace cairn

// train/hf_export.h — `cairn ckpt export`: a checkpoint's parameters for Hugging Face.
//
//   OUT ending in ".safetensors"   one safetensors file (checkpoint/tools.h export_params)
//   any other OUT (a directory,    OUT/model.safetensors and OUT/config.json, created as
//   existing or not)               needed, so transformers' from_pretrained(OUT) loads it as
//                                  it is (GPT2LMHeadModel for model.arch = "gpt2")
// config.json is written by the checkpoint's model family (models/model.h, hf_config) from
// the [model] section of its saved config: for gpt2, GPT-2's keys, tanh GELU, LayerNorm
// epsilon 1e-5, the LM head tied to wte, float32. When the checkpoint's
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

}  // namespace cairn

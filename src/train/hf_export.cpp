// train/hf_export.cpp — see hf_export.h.
#include "train/hf_export.h"

#include <filesystem>

#include "checkpoint/file_io.h"
#include "checkpoint/hf_weights.h"
#include "checkpoint/tools.h"
#include "core/error.h"
#include "core/log.h"
#include "data/tokenizer.h"
#include "models/model.h"
#include "train/config.h"

namespace cairn {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The run directory of a checkpoint RUN/checkpoints/step_N ("" for a checkpoint elsewhere).
std::string run_dir_of(const std::string& checkpoint_dir) {
  const std::filesystem::path dir = std::filesystem::path(checkpoint_dir).lexically_normal();
  const std::filesystem::path parent = (dir.has_filename() ? dir : dir.parent_path()).parent_path();
  if (parent.filename() != "checkpoints") return "";
  return parent.has_parent_path() ? parent.parent_path().string() : ".";
}

// The id of the tokenizer's end-of-text token (the one `data prepare` put between documents:
// <|endoftext|>, <|end_of_text|>, </s>, ...; data/tokenizer.h), or null when it cannot be read.
json end_of_text_id(const std::string& tokenizer_json) {
  try {
    return data::Tokenizer::load(tokenizer_json).eot_id();
  } catch (const Error& e) {
    log_warn(tokenizer_json, ": no end-of-text id for config.json (", e.what(), ")");
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> export_hf(const ckpt::Checkpoint& ckpt, const std::string& out) {
  if (ends_with(out, ".safetensors") && !ckpt::is_dir(out)) {
    ckpt::export_params(ckpt, out);
    return {out};
  }
  CAIRN_CHECK(ckpt.state().is_object() && ckpt.state().contains("model") && ckpt.state().contains("config") &&
                  ckpt.state()["config"].is_string(),
              ckpt.dir, ": the checkpoint records no model (state.model), so no config.json can be written; export to a "
              "FILE.safetensors instead");
  // The saved config's [model] section names the family, which writes its own config.json.
  const ModelConfig model = Config::parse(ckpt.state()["config"].get<std::string>(), ckpt.dir + " (saved config)").model;
  json config = models::family(model.arch).hf_config(model);
  // The run's tokenizer (kept in the run directory by `cairn train`, data/tokenizer.h) goes
  // with the weights, so AutoTokenizer.from_pretrained(OUT) reads the ids the model knows.
  const std::string run = run_dir_of(ckpt.dir);
  const std::string tokenizer = run.empty() ? "" : ckpt::join_path(run, "tokenizer.json");
  const bool with_tokenizer = !tokenizer.empty() && ckpt::is_file(tokenizer);
  if (with_tokenizer) {
    const json eot = end_of_text_id(tokenizer);
    if (!eot.is_null()) config["bos_token_id"] = config["eos_token_id"] = eot;
  } else if (!run.empty()) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(run, ec))
      if (entry.path().extension() == ".tiktoken")
        log_warn(entry.path().string(), ": a tiktoken ranks file, which transformers does not read: not exported");
  }
  ckpt::make_dir(out);
  const std::string weights = ckpt::join_path(out, ckpt::kHfWeightsFile), config_path = ckpt::join_path(out, "config.json");
  ckpt::export_params(ckpt, weights);
  ckpt::write_file_atomic(config_path, config.dump(2) + "\n");
  std::vector<std::string> files = {weights, config_path};
  if (with_tokenizer) {
    files.push_back(ckpt::join_path(out, "tokenizer.json"));
    ckpt::write_file_atomic(files.back(), ckpt::read_small_file(tokenizer, 1'000'000'000));
  }
  return files;
}

}  // namespace cairn

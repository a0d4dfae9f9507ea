// train/hf_export.cpp — see hf_export.h.
#include "train/hf_export.h"

#include "checkpoint/file_io.h"
#include "checkpoint/hf_weights.h"
#include "checkpoint/tools.h"
#include "core/error.h"

namespace cairn {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// GPT-2's own tokenizer ends every document with id 50256; other vocabularies have no
// end-of-text id cairn knows, and GPT2Config would otherwise default to 50256.
constexpr int64_t kGpt2Vocab = 50257;

}  // namespace

json gpt2_hf_config(const json& model) {
  const int64_t vocab = model.at("vocab_size").get<int64_t>(), seq_len = model.at("seq_len").get<int64_t>();
  const double dropout = model.at("dropout").get<double>();
  const json eot = vocab == kGpt2Vocab ? json(kGpt2Vocab - 1) : json(nullptr);
  return {{"architectures", {"GPT2LMHeadModel"}},
          {"model_type", "gpt2"},
          {"vocab_size", vocab},
          {"n_positions", seq_len},
          {"n_ctx", seq_len},
          {"n_embd", model.at("n_embd")},
          {"n_layer", model.at("n_layer")},
          {"n_head", model.at("n_head")},
          {"n_inner", nullptr},
          {"activation_function", "gelu_new"},
          {"layer_norm_epsilon", 1e-5},
          {"resid_pdrop", dropout},
          {"embd_pdrop", dropout},
          {"attn_pdrop", dropout},
          {"initializer_range", 0.02},
          {"scale_attn_weights", true},
          {"use_cache", true},
          {"tie_word_embeddings", true},
          {"bos_token_id", eot},
          {"eos_token_id", eot},
          {"torch_dtype", "float32"}};
}

std::vector<std::string> export_hf(const ckpt::Checkpoint& ckpt, const std::string& out) {
  if (ends_with(out, ".safetensors") && !ckpt::is_dir(out)) {
    ckpt::export_params(ckpt, out);
    return {out};
  }
  CAIRN_CHECK(ckpt.state().is_object() && ckpt.state().contains("model"), ckpt.dir,
              ": the checkpoint records no model (state.model), so no config.json can be written; export to a "
              "FILE.safetensors instead");
  const json config = gpt2_hf_config(ckpt.state().at("model"));
  ckpt::make_dir(out);
  const std::string weights = ckpt::join_path(out, ckpt::kHfWeightsFile), config_path = ckpt::join_path(out, "config.json");
  ckpt::export_params(ckpt, weights);
  ckpt::write_file_atomic(config_path, config.dump(2) + "\n");
  // TODO(tokenizer): when the run records a tokenizer, write its files here too.
  return {weights, config_path};
}

}  // namespace cairn

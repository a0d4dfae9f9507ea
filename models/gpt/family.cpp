// models/gpt/family.cpp — GPT-2 as a model family (model.arch = "gpt2"): what
// models/registry.cpp registers, the [model] config turned into a GPTConfig, and how GPT-2
// tensors appear in Hugging Face files and config.json.
#include <algorithm>
#include <regex>

#include "core/error.h"
#include "models/gpt/gpt.h"

namespace cairn::gpt {
namespace {

models::ParamLayout layout_of(const ModelConfig& cfg) { return build_layout(gpt_config(cfg)); }

std::unique_ptr<models::Model> create(const ModelConfig& cfg, int B, int T, const KernelOps& ops) {
  return std::make_unique<GPT>(gpt_config(cfg), B, T, ops);
}

size_t activation_bytes(const ModelConfig& cfg, int B, int T) { return activation_bytes_for(gpt_config(cfg), B, T); }

// The keys other families use may only hold the values that describe GPT-2 (their defaults).
std::vector<std::string> check_config(const ModelConfig& m) {
  std::vector<std::string> errors;
  const ModelConfig defaults;
  if (m.n_kv_head != 0 && m.n_kv_head != m.n_head)
    errors.push_back(str("model.n_kv_head = ", m.n_kv_head, ": GPT-2 has one key/value head per attention head (0 or ",
                         m.n_head, "); grouped-query attention is model.arch = \"llama\""));
  if (m.ffn_dim != 0 && m.ffn_dim != 4 * m.n_embd)
    errors.push_back(str("model.ffn_dim = ", m.ffn_dim, ": GPT-2's MLP is 4 * n_embd = ", 4 * m.n_embd, " wide (0 or ",
                         4 * m.n_embd, ")"));
  if (!m.tie_embeddings)
    errors.push_back("model.tie_embeddings = false: GPT-2's LM head is always the token embedding");
  if (m.rope_theta != defaults.rope_theta)
    errors.push_back(str("model.rope_theta = ", m.rope_theta, ": GPT-2 has learned positions, no rotary embedding"));
  if (m.rms_norm_eps != defaults.rms_norm_eps)
    errors.push_back(str("model.rms_norm_eps = ", m.rms_norm_eps, ": GPT-2 uses LayerNorm (epsilon 1e-5), not RMSNorm"));
  return errors;
}

// GPT2LMHeadModel.save_pretrained: names with or without "transformer.", the attention-mask
// buffers h.N.attn.bias / h.N.attn.masked_bias, and lm_head.weight tied to wte.weight.
models::HfNames hf_names(const ModelConfig&) {
  return {{"transformer."}, R"(h\.\d+\.attn\.(bias|masked_bias))", "lm_head.weight", "wte.weight", "wpe.weight",
          "GPT-2"};
}

// n_head cannot be seen in the tensor shapes, so config.json is where a mismatch shows.
std::vector<std::string> check_hf_config(const nlohmann::json& j, const ModelConfig& m) {
  std::vector<std::string> diffs;
  auto want = [&](const char* hf_key, const char* key, int64_t value) { models::check_hf_int(j, hf_key, key, value, &diffs); };
  want("n_layer", "n_layer", m.n_layer);
  want("n_head", "n_head", m.n_head);
  want("n_embd", "n_embd", m.n_embd);
  want("vocab_size", "vocab_size", m.vocab_size);
  // A longer position table is cropped to seq_len (HfNames::cropped_rows); a shorter one cannot be.
  if (j.contains("n_positions") && j["n_positions"].is_number_integer() && j["n_positions"].get<int64_t>() < m.seq_len)
    diffs.push_back(str("model.seq_len = ", m.seq_len, " but config.json has n_positions = ",
                        j["n_positions"].get<int64_t>(), " (seq_len may be at most n_positions)"));
  if (j.contains("activation_function") && j["activation_function"].is_string()) {
    const std::string act = j["activation_function"].get<std::string>();
    if (act != "gelu_new" && act != "gelu_pytorch_tanh")
      diffs.push_back(str("config.json has activation_function = ", act, "; cairn's GPT-2 uses tanh GELU (gelu_new)"));
  }
  return diffs;
}

// GPT-2's own tokenizer ends every document with id 50256; other vocabularies have no
// end-of-text id cairn knows, and GPT2Config would otherwise default to 50256.
constexpr int64_t kGpt2Vocab = 50257;

nlohmann::json hf_config(const ModelConfig& m) {
  const nlohmann::json eot = m.vocab_size == kGpt2Vocab ? nlohmann::json(kGpt2Vocab - 1) : nlohmann::json(nullptr);
  return {{"architectures", {"GPT2LMHeadModel"}},
          {"model_type", "gpt2"},
          {"vocab_size", m.vocab_size},
          {"n_positions", m.seq_len},
          {"n_ctx", m.seq_len},
          {"n_embd", m.n_embd},
          {"n_layer", m.n_layer},
          {"n_head", m.n_head},
          {"n_inner", nullptr},
          {"activation_function", "gelu_new"},
          {"layer_norm_epsilon", 1e-5},
          {"resid_pdrop", m.dropout},
          {"embd_pdrop", m.dropout},
          {"attn_pdrop", m.dropout},
          {"initializer_range", 0.02},
          {"scale_attn_weights", true},
          {"use_cache", true},
          {"tie_word_embeddings", true},
          {"bos_token_id", eot},
          {"eos_token_id", eot},
          {"torch_dtype", "float32"}};
}

std::string describe_hf_file(const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors) {
  std::vector<std::string> parts;
  int max_layer = -1;
  static const std::regex layer_re(R"(h\.(\d+)\..*)");
  const std::vector<int64_t>* wte = nullptr;
  const std::vector<int64_t>* wpe = nullptr;
  for (const auto& [name, shape] : tensors) {
    std::smatch m;
    if (std::regex_match(name, m, layer_re)) max_layer = std::max(max_layer, std::stoi(m[1]));
    if (name == "wte.weight") wte = &shape;
    if (name == "wpe.weight") wpe = &shape;
  }
  if (max_layer >= 0) parts.push_back(str("n_layer=", max_layer + 1));
  if (wte && wte->size() == 2) parts.push_back(str("vocab_size=", (*wte)[0], ", n_embd=", (*wte)[1]));
  if (wpe && wpe->size() == 2) parts.push_back(str("seq_len=", (*wpe)[0]));
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s.empty() ? "no GPT-2 tensors" : s;
}

}  // namespace

GPTConfig gpt_config(const ModelConfig& cfg) {
  return {cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.seq_len, cfg.vocab_size, float(cfg.dropout)};
}

const models::ModelFamily& family() {
  static const models::ModelFamily f{"gpt2",   check_config,    layout_of, create,          activation_bytes,
                                     hf_names, check_hf_config, hf_config, describe_hf_file};
  return f;
}

}  // namespace cairn::gpt

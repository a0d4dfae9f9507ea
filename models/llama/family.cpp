// models/llama/family.cpp — Llama as a model family (model.arch = "llama"): what
// models/registry.cpp registers, the [model] config turned into a LlamaConfig, and how
// LlamaForCausalLM's tensors appear in Hugging Face files and config.json.
#include <algorithm>
#include <cmath>
#include <regex>

#include "core/error.h"
#include "models/llama/llama.h"

namespace cairn::llama {
namespace {

models::ParamLayout layout_of(const ModelConfig& cfg) { return build_layout(llama_config(cfg)); }

std::unique_ptr<models::Model> create(const ModelConfig& cfg, int B, int T, const KernelOps& ops) {
  return std::make_unique<Llama>(llama_config(cfg), B, T, ops);
}

size_t activation_bytes(const ModelConfig& cfg, int B, int T) { return activation_bytes_for(llama_config(cfg), B, T); }

std::vector<std::string> check_config(const ModelConfig& m) {
  std::vector<std::string> errors;
  const int NKV = m.kv_heads();
  if (m.n_kv_head < 0 || m.n_head % NKV != 0)
    errors.push_back(str("model.n_kv_head = ", m.n_kv_head, " must divide model.n_head = ", m.n_head,
                         " (each key/value head serves n_head/n_kv_head query heads; 0 = n_head)"));
  if (m.n_head > 0 && m.n_embd % m.n_head == 0 && (m.n_embd / m.n_head) % 2 != 0)
    errors.push_back(str("model.n_embd / model.n_head = ", m.n_embd / m.n_head,
                         " must be even: rotary embeddings turn channel pairs"));
  if (m.ffn_dim < 1)
    errors.push_back(str("model.ffn_dim must be set for model.arch = \"llama\" (the SwiGLU width, HF's "
                         "intermediate_size; got ",
                         m.ffn_dim, ")"));
  if (!(m.rope_theta > 0) || !std::isfinite(m.rope_theta))
    errors.push_back(str("model.rope_theta must be a positive number (got ", m.rope_theta, ")"));
  if (!(m.rms_norm_eps > 0) || !std::isfinite(m.rms_norm_eps))
    errors.push_back(str("model.rms_norm_eps must be a positive number (got ", m.rms_norm_eps, ")"));
  if (!errors.empty()) return errors;
  // The kernels read q|k|v and gate|up as one matrix each: every tensor starts on a 16-float
  // boundary, so each one but the last of a packed group must be a multiple of 16 floats.
  const int64_t C = m.n_embd, hd = C / m.n_head;
  if (C * C % 16 != 0 || int64_t(NKV) * hd * C % 16 != 0 || int64_t(m.ffn_dim) * C % 16 != 0)
    errors.push_back(str("model.n_embd = ", C, ", model.n_kv_head = ", NKV, ", model.ffn_dim = ", m.ffn_dim,
                         ": q_proj, k_proj and gate_proj must each be a multiple of 16 floats (n_embd a multiple "
                         "of 4 always is)"));
  return errors;
}

// LlamaForCausalLM.save_pretrained: names as in the layout; older transformers also saved the
// rotary inverse frequencies; a tied lm_head.weight (when the file has one) equals the embedding.
models::HfNames hf_names(const ModelConfig& cfg) {
  models::HfNames n;
  n.ignored = R"(model\.(layers\.\d+\.self_attn\.)?rotary_emb\.inv_freq)";
  if (cfg.tie_embeddings) {
    n.tied_head = "lm_head.weight";
    n.tied_to = "model.embed_tokens.weight";
  }
  n.describe = "Llama";
  return n;
}

// rope_theta: transformers 5 keeps it in rope_parameters, 4 at the top level.
double hf_rope_theta(const nlohmann::json& j) {
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object() && j["rope_parameters"].contains("rope_theta") &&
      j["rope_parameters"]["rope_theta"].is_number())
    return j["rope_parameters"]["rope_theta"].get<double>();
  if (j.contains("rope_theta") && j["rope_theta"].is_number()) return j["rope_theta"].get<double>();
  return 10000.0;  // LlamaConfig's default
}

// The shapes cannot show n_head, rope_theta, the epsilon or a scaled RoPE: config.json does.
std::vector<std::string> check_hf_config(const nlohmann::json& j, const ModelConfig& m) {
  std::vector<std::string> diffs;
  auto want = [&](const char* hf_key, const char* key, int64_t value) { models::check_hf_int(j, hf_key, key, value, &diffs); };
  want("num_hidden_layers", "n_layer", m.n_layer);
  want("num_attention_heads", "n_head", m.n_head);
  want("num_key_value_heads", "n_kv_head", m.kv_heads());
  want("hidden_size", "n_embd", m.n_embd);
  want("intermediate_size", "ffn_dim", m.ffn_dim);
  want("vocab_size", "vocab_size", m.vocab_size);
  if (j.contains("head_dim") && j["head_dim"].is_number_integer() && m.n_head > 0 &&
      j["head_dim"].get<int64_t>() != m.n_embd / m.n_head)
    diffs.push_back(str("config.json has head_dim = ", j["head_dim"].get<int64_t>(), "; cairn's Llama uses n_embd / n_head = ",
                        m.n_embd / m.n_head));
  const double theta = hf_rope_theta(j);
  if (theta != m.rope_theta)
    diffs.push_back(str("model.rope_theta = ", m.rope_theta, " but config.json has rope_theta = ", theta));
  if (j.contains("rms_norm_eps") && j["rms_norm_eps"].is_number() && j["rms_norm_eps"].get<double>() != m.rms_norm_eps)
    diffs.push_back(str("model.rms_norm_eps = ", m.rms_norm_eps, " but config.json has rms_norm_eps = ",
                        j["rms_norm_eps"].get<double>()));
  const bool tied = j.value("tie_word_embeddings", false);  // LlamaConfig's default: untied
  if (tied != m.tie_embeddings)
    diffs.push_back(str("model.tie_embeddings = ", m.tie_embeddings ? "true" : "false",
                        " but config.json has tie_word_embeddings = ", tied ? "true" : "false"));
  if (j.contains("hidden_act") && j["hidden_act"].is_string() && j["hidden_act"].get<std::string>() != "silu")
    diffs.push_back(str("config.json has hidden_act = ", j["hidden_act"].get<std::string>(), "; cairn's Llama uses silu"));
  for (const char* bias : {"attention_bias", "mlp_bias"})
    if (j.contains(bias) && j[bias].is_boolean() && j[bias].get<bool>())
      diffs.push_back(str("config.json has ", bias, " = true; cairn's Llama has no biases"));
  std::string rope_type = "default";
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object())
    rope_type = j["rope_parameters"].value("rope_type", "default");
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object())
    rope_type = j["rope_scaling"].value("rope_type", j["rope_scaling"].value("type", "scaled"));
  if (rope_type != "default")
    diffs.push_back(str("config.json has rope type ", rope_type, "; cairn's Llama implements the default RoPE only"));
  return diffs;
}

nlohmann::json hf_config(const ModelConfig& m) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"vocab_size", m.vocab_size},
          {"hidden_size", m.n_embd},
          {"intermediate_size", m.ffn_dim},
          {"num_hidden_layers", m.n_layer},
          {"num_attention_heads", m.n_head},
          {"num_key_value_heads", m.kv_heads()},
          {"head_dim", m.n_embd / m.n_head},
          {"hidden_act", "silu"},
          {"max_position_embeddings", m.seq_len},
          {"initializer_range", 0.02},
          {"rms_norm_eps", m.rms_norm_eps},
          {"rope_theta", m.rope_theta},  // transformers 4
          {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", m.rope_theta}}},  // transformers 5
          {"attention_bias", false},
          {"attention_dropout", m.dropout},
          {"mlp_bias", false},
          {"tie_word_embeddings", m.tie_embeddings},
          {"use_cache", true},
          {"bos_token_id", nullptr},
          {"eos_token_id", nullptr},
          {"torch_dtype", "float32"}};
}

std::string describe_hf_file(const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors) {
  int max_layer = -1;
  static const std::regex layer_re(R"(model\.layers\.(\d+)\..*)");
  const std::vector<int64_t> *embed = nullptr, *k_proj = nullptr, *gate = nullptr;
  bool head = false;
  for (const auto& [name, shape] : tensors) {
    std::smatch m;
    if (std::regex_match(name, m, layer_re)) max_layer = std::max(max_layer, std::stoi(m[1]));
    if (name == "model.embed_tokens.weight") embed = &shape;
    if (name == "model.layers.0.self_attn.k_proj.weight") k_proj = &shape;
    if (name == "model.layers.0.mlp.gate_proj.weight") gate = &shape;
    if (name == "lm_head.weight") head = true;
  }
  std::vector<std::string> parts;
  if (max_layer >= 0) parts.push_back(str("n_layer=", max_layer + 1));
  if (embed && embed->size() == 2) parts.push_back(str("vocab_size=", (*embed)[0], ", n_embd=", (*embed)[1]));
  if (k_proj && k_proj->size() == 2) parts.push_back(str("key/value width=", (*k_proj)[0], " (n_kv_head * head_dim)"));
  if (gate && gate->size() == 2) parts.push_back(str("ffn_dim=", (*gate)[0]));
  if (embed) parts.push_back(head ? "an lm_head.weight (untied, or tied and saved)" : "no lm_head.weight (tied)");
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s.empty() ? "no Llama tensors" : s;
}

}  // namespace

LlamaConfig llama_config(const ModelConfig& cfg) {
  LlamaConfig c;
  c.n_layer = cfg.n_layer;
  c.n_head = cfg.n_head;
  c.n_kv_head = cfg.kv_heads();
  c.n_embd = cfg.n_embd;
  c.ffn_dim = cfg.ffn_dim;
  c.seq_len = cfg.seq_len;
  c.vocab_size = cfg.vocab_size;
  c.rope_theta = float(cfg.rope_theta);
  c.rms_norm_eps = float(cfg.rms_norm_eps);
  c.tie_embeddings = cfg.tie_embeddings;
  c.dropout = float(cfg.dropout);
  return c;
}

const models::ModelFamily& family() {
  static const models::ModelFamily f{"llama",  check_config,    layout_of, create,          activation_bytes,
                                     hf_names, check_hf_config, hf_config, describe_hf_file};
  return f;
}

}  // namespace cairn::llama

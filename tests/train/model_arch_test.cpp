// model.arch in the config: default gpt2, an unknown family is one line naming the registered
// ones, the [model] section as the checkpoint's state.model record, and each family's own
// rules on the keys (models/*/family.cpp, check_config) as one-line errors naming the key.
#include <gtest/gtest.h>

#include "core/error.h"
#include "train/config.h"

namespace cairn {
namespace {

const char* kConfig = R"(
[run]
dir = "runs/x"
[model]
n_layer = 2
n_head = 2
n_embd = 32
seq_len = 16
vocab_size = 256
dropout = 0.25
[train]
seed = 1
steps = 10
micro_batch = 2
grad_accum = 4
[data]
train = "data/train.bin"
)";

TEST(ModelArch, DefaultsToGpt2AndIsResolved) {
  const Config c = Config::parse(kConfig, "test.toml");
  EXPECT_EQ(c.model.arch, "gpt2");
  EXPECT_NE(c.to_toml().find("[model]\narch = \"gpt2\"\n"), std::string::npos);
  const nlohmann::json want = {{"arch", "gpt2"},      {"n_layer", 2},      {"n_head", 2},
                               {"n_embd", 32},        {"seq_len", 16},     {"vocab_size", 256},
                               {"dropout", 0.25},     {"n_kv_head", 0},    {"ffn_dim", 0},
                               {"rope_theta", 10000}, {"rms_norm_eps", 1e-5}, {"tie_embeddings", true}};
  EXPECT_EQ(c.section_json("model"), want);
}

TEST(ModelArch, UnknownFamilyIsOneLineListingTheRegistered) {
  std::string text = kConfig;
  text.replace(text.find("[model]\n"), 8, "[model]\narch = \"mamba\"\n");
  try {
    Config::parse(text, "test.toml");
    FAIL() << "model.arch = mamba must be refused";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "test.toml: model.arch = \"mamba\" is not a registered model family (registered: gpt2, llama)");
  }
}

// The error of parsing kConfig with `sets` applied ("" if it parses).
std::string error_of(const std::vector<std::string>& sets) {
  try {
    Config::parse(kConfig, "test.toml", sets);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelArch, Gpt2RefusesOtherFamiliesKeysButAcceptsItsOwnValues) {
  EXPECT_EQ(error_of({"model.n_kv_head=2", "model.ffn_dim=128", "model.tie_embeddings=true"}), "");
  EXPECT_EQ(error_of({"model.n_kv_head=1"}),
            "--set model.n_kv_head=1 (on test.toml): model.n_kv_head = 1: GPT-2 has one key/value head per attention "
            "head (0 or 2); grouped-query attention is model.arch = \"llama\"");
  EXPECT_EQ(error_of({"model.ffn_dim=100"}),
            "--set model.ffn_dim=100 (on test.toml): model.ffn_dim = 100: GPT-2's MLP is 4 * n_embd = 128 wide (0 or 128)");
  EXPECT_EQ(error_of({"model.tie_embeddings=false"}),
            "--set model.tie_embeddings=false (on test.toml): model.tie_embeddings = false: GPT-2's LM head is always "
            "the token embedding");
  EXPECT_EQ(error_of({"model.rope_theta=500000"}),
            "--set model.rope_theta=500000 (on test.toml): model.rope_theta = 500000: GPT-2 has learned positions, no "
            "rotary embedding");
}

TEST(ModelArch, LlamaRulesNameTheKey) {
  const std::vector<std::string> llama = {"model.arch=llama", "model.ffn_dim=88", "model.n_kv_head=1"};
  EXPECT_EQ(error_of(llama), "");
  const Config c = Config::parse(kConfig, "test.toml", llama);
  EXPECT_EQ(c.model.kv_heads(), 1);
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> sets = llama;
    sets.insert(sets.end(), extra.begin(), extra.end());
    return error_of(sets);
  };
  EXPECT_EQ(with({"model.ffn_dim=0"}),
            "--set model.arch=llama --set model.ffn_dim=0 (on test.toml): model.ffn_dim must be set for model.arch = \"llama\" (the SwiGLU "
            "width, HF's intermediate_size; got 0)");
  EXPECT_EQ(with({"model.n_head=4", "model.n_kv_head=3"}),
            "--set model.n_head=4 --set model.n_kv_head=3 (on test.toml): model.n_kv_head = 3 must divide model.n_head "
            "= 4 (each key/value head serves n_head/n_kv_head query heads; 0 = n_head)");
  EXPECT_EQ(with({"model.n_embd=36", "model.n_head=4", "model.n_kv_head=2"}),
            "--set model.n_embd=36 --set model.n_head=4 (on test.toml): model.n_embd / model.n_head = 9 must be even: "
            "rotary embeddings turn channel pairs");
  EXPECT_EQ(with({"model.rope_theta=0"}),
            "--set model.rope_theta=0 (on test.toml): model.rope_theta must be a positive number (got 0)");
  EXPECT_EQ(with({"model.rms_norm_eps=-1"}),
            "--set model.rms_norm_eps=-1 (on test.toml): model.rms_norm_eps must be a positive number (got -1)");
  EXPECT_EQ(with({"model.n_embd=6", "model.n_head=1", "model.ffn_dim=8"}),
            "--set model.ffn_dim=8 --set model.n_embd=6 --set model.n_kv_head=1 (on test.toml): model.n_embd = 6, "
            "model.n_kv_head = 1, model.ffn_dim = 8: q_proj, k_proj and gate_proj must each be a multiple of 16 floats (n_embd a "
            "multiple of 4 always is)");
}

}  // namespace
}  // namespace cairn

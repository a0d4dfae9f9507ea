// model.arch in the config: default gpt2, an unknown family is one line naming the registered
// ones, and the [model] section as the checkpoint's state.model record.
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
  const nlohmann::json want = {{"arch", "gpt2"}, {"n_layer", 2},      {"n_head", 2},     {"n_embd", 32},
                               {"seq_len", 16},  {"vocab_size", 256}, {"dropout", 0.25}};
  EXPECT_EQ(c.section_json("model"), want);
}

TEST(ModelArch, UnknownFamilyIsOneLineListingTheRegistered) {
  std::string text = kConfig;
  text.replace(text.find("[model]\n"), 8, "[model]\narch = \"llama\"\n");
  try {
    Config::parse(text, "test.toml");
    FAIL() << "model.arch = llama must be refused";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "test.toml: model.arch = \"llama\" is not a registered model family (registered: gpt2)");
  }
}

}  // namespace
}  // namespace cairn

// Which config changes at resume are said out loud (issue 13): every key that changes the
// bits the resumed run computes — model.*, train.*, run.device, and run.tf32 on cuda — and
// none that does not (threads, logging, checkpointing).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "train/config.h"

namespace cairn {
namespace {

const char* kMinimal = R"(
[run]
dir = "runs/x"
[model]
n_layer = 2
n_head = 2
n_embd = 32
seq_len = 16
vocab_size = 256
[train]
seed = 1
steps = 10
micro_batch = 2
grad_accum = 4
[data]
train = "data/train.bin"
)";

std::vector<std::string> warned(const std::vector<std::string>& saved_sets, const std::vector<std::string>& now_sets) {
  const Config saved = Config::parse(kMinimal, "saved.toml", saved_sets);
  const Config now = Config::parse(kMinimal, "now.toml", now_sets);
  std::vector<std::string> out;
  for (const std::string& d : config_differences(saved, now))
    if (changes_bits(d, now)) out.push_back(d);
  return out;
}

TEST(ResumeBits, Tf32ChangeOnCudaIsSaidOutLoud) {
  EXPECT_EQ(warned({"run.device=cuda"}, {"run.device=cuda", "run.tf32=true"}),
            std::vector<std::string>{"run.tf32: false -> true"});
  EXPECT_EQ(warned({"run.device=cuda", "run.tf32=true"}, {"run.device=cuda"}),
            std::vector<std::string>{"run.tf32: true -> false"});
}

TEST(ResumeBits, DeviceChangeIsSaidOutLoud) {
  EXPECT_EQ(warned({"run.device=cuda"}, {}), std::vector<std::string>{"run.device: \"cuda\" -> \"cpu\""});
}

TEST(ResumeBits, SettingsThatKeepTheBitsAreNot) {
  EXPECT_TRUE(warned({}, {"run.tf32=true"}).empty()) << "run.tf32 does nothing on the CPU";
  EXPECT_TRUE(warned({}, {"run.threads=3", "run.log_every=7", "checkpoint.every_steps=2", "run.profile=true"}).empty());
}

TEST(ResumeBits, ModelAndTrainChangesAreSaidOutLoud) {
  EXPECT_EQ(warned({}, {"train.lr=1e-3", "model.dropout=0.1"}).size(), 2u);
}

}  // namespace
}  // namespace cairn

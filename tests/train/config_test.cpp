// Config: defaults, overrides, round trip through the resolved TOML, and one exact error
// per kind of bad input.
#include <gtest/gtest.h>

#include "core/error.h"
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

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    Config::parse(text, "test.toml", overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsAndOverrides) {
  Config c = Config::parse(kMinimal, "test.toml", {"train.lr=3e-4", "run.device=cpu", "checkpoint.keep_last=5",
                                                   "data.allow_changed=true", "train.steps=7"});
  EXPECT_EQ(c.train.lr, 3e-4);
  EXPECT_EQ(c.train.steps, 7);
  EXPECT_EQ(c.checkpoint.keep_last, 5);
  EXPECT_TRUE(c.data.allow_changed);
  EXPECT_EQ(c.train.beta2, 0.95);
  EXPECT_EQ(c.run.device, "cpu");
}

TEST(Config, ResolvedTomlRoundTrips) {
  Config c = Config::parse(kMinimal, "test.toml", {"train.lr=0.1234567890123"});
  Config d = Config::parse(c.to_toml(), "resolved.toml");
  EXPECT_EQ(c.to_toml(), d.to_toml());
  EXPECT_EQ(d.train.lr, 0.1234567890123);
}

TEST(Config, Errors) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[train2]\nx = 1\n"),
            "test.toml: unknown config section [train2] (sections: run, model, train, data, checkpoint)");
  EXPECT_NE(error_of(std::string(kMinimal), {"train.lrr=1"}).find("--set train.lrr: unknown config key"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "[checkpoint]\nevery = 3\n").find("unknown config key checkpoint.every"),
            std::string::npos);
  EXPECT_EQ(error_of(kMinimal, {"train.steps=ten"}), "--set train.steps=ten (on test.toml): train.steps must be an integer");
  EXPECT_EQ(error_of(kMinimal, {"train.lr=-1"}), "--set train.lr=-1 (on test.toml): train.lr must be a positive number (got -1)");
  EXPECT_NE(error_of(kMinimal, {"model.n_head=3"}).find("must be a positive multiple of model.n_head (3)"),
            std::string::npos);
  EXPECT_NE(error_of(kMinimal, {"checkpoint.keep_last=1"}).find("resume must be able to fall back"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {"model.dropout=1.0"}).find("model.dropout must be in [0, 1)"), std::string::npos);
  std::string missing = kMinimal;
  missing.replace(missing.find("seed = 1\n"), 9, "");
  EXPECT_EQ(error_of(missing), "test.toml: missing required key train.seed (seed of initialisation, data order and dropout)");
  EXPECT_NE(error_of("[run\ndir = 1").find("test.toml:1:"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {"model.vocab_size=5000000"}).find("model.vocab_size must be in [1, 4194304]"),
            std::string::npos);
}

// An error caused by --set names the --set (the file is only the background); one caused by
// the file alone names the file, even when unrelated keys were set.
TEST(Config, ErrorsNameTheSetThatCausedThem) {
  std::string text = kMinimal;
  text.insert(text.find("micro_batch"), "min_lr = 3e-4\nlr = 3e-3\n");
  EXPECT_EQ(error_of(text, {"train.lr=1e-4", "train.steps=3"}),
            "--set train.lr=1e-4 (on test.toml): train.min_lr must be in [0, train.lr] (got 0.0003 with train.lr = 0.0001)");
  EXPECT_EQ(error_of(text, {"train.min_lr=1", "train.lr=0.5"}),
            "--set train.lr=0.5 --set train.min_lr=1 (on test.toml): train.min_lr must be in [0, train.lr] (got 1 with "
            "train.lr = 0.5)");
  std::string bad = text;
  bad.replace(bad.find("min_lr = 3e-4"), 13, "min_lr = 0.1");
  EXPECT_EQ(error_of(bad, {"train.steps=3", "run.dir=x"}),
            "test.toml: train.min_lr must be in [0, train.lr] (got 0.1 with train.lr = 0.003)");
}

// checkpoint.mtbf_hours: 0 (the default) is off, a positive number of hours is taken, anything
// else is refused with the key, the value and what it should be.
TEST(Config, MtbfHours) {
  EXPECT_EQ(Config::parse(kMinimal, "test.toml").checkpoint.mtbf_hours, 0.0);
  Config c = Config::parse(kMinimal, "test.toml", {"checkpoint.mtbf_hours=24"});
  EXPECT_EQ(c.checkpoint.mtbf_hours, 24.0);
  EXPECT_EQ(Config::parse(c.to_toml(), "resolved.toml").checkpoint.mtbf_hours, 24.0);
  EXPECT_EQ(Config::parse(kMinimal, "test.toml", {"checkpoint.mtbf_hours=0.5"}).checkpoint.mtbf_hours, 0.5);
  EXPECT_EQ(error_of(kMinimal, {"checkpoint.mtbf_hours=-2"}),
            "--set checkpoint.mtbf_hours=-2 (on test.toml): checkpoint.mtbf_hours must be a positive number of hours, the job's mean time between "
            "failures, or 0 for off (got -2)");
  EXPECT_NE(error_of(kMinimal, {"checkpoint.mtbf_hours=inf"}).find("checkpoint.mtbf_hours must be a positive number"),
            std::string::npos);
  EXPECT_NE(error_of(kMinimal, {"checkpoint.mtbf_hours=nan"}).find("checkpoint.mtbf_hours must be a positive number"),
            std::string::npos);
  EXPECT_EQ(error_of(kMinimal, {"checkpoint.mtbf_hours=daily"}),
            "--set checkpoint.mtbf_hours=daily (on test.toml): checkpoint.mtbf_hours must be a number");
}

TEST(Config, MalformedOverrideIsUsageError) {
  EXPECT_THROW(Config::parse(kMinimal, "test.toml", {"train.lr"}), UsageError);
  EXPECT_THROW(Config::parse(kMinimal, "test.toml", {"lr=3"}), UsageError);
}

// train.freeze is a list of strings: from TOML, from --set, round-tripped, and typed.
TEST(Config, FreezeIsAListOfPatterns) {
  std::string text = kMinimal;
  text.insert(text.find("[data]"), "freeze = [\"h.0.\", \"wte.*\"]\n");
  Config c = Config::parse(text, "test.toml");
  EXPECT_EQ(c.train.freeze, (std::vector<std::string>{"h.0.", "wte.*"}));
  EXPECT_EQ(Config::parse(c.to_toml(), "resolved.toml").train.freeze, c.train.freeze);
  EXPECT_NE(c.to_toml().find("freeze = [\"h.0.\", \"wte.*\"]"), std::string::npos) << c.to_toml();
  EXPECT_EQ(Config::parse(kMinimal, "test.toml", {"train.freeze=[\"ln_f.\"]"}).train.freeze,
            std::vector<std::string>{"ln_f."});
  EXPECT_TRUE(Config::parse(kMinimal, "test.toml").train.freeze.empty());
  EXPECT_NE(error_of(kMinimal, {"train.freeze=[1, 2]"}).find("train.freeze must be a list of strings"),
            std::string::npos);
  EXPECT_TRUE(Config::parse(kMinimal, "test.toml", {"checkpoint.incremental=true", "checkpoint.compress=zstd"})
                  .checkpoint.incremental);
}

}  // namespace
}  // namespace cairn

// Whole-model checks: layout, initialisation, and the gradient of the full GPT-2 (every
// parameter tensor) against central finite differences on a tiny config, with and without
// dropout.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

#include "core/error.h"

#include "core/sharding.h"
#include "models/gpt/gpt.h"
#include "tolerance.h"

namespace cairn::gpt {
namespace {

GPTConfig tiny(float dropout = 0.0f) { return GPTConfig{2, 2, 8, 5, 61, dropout}; }

TEST(GptLayout, HfNamesShapesAndPadding) {
  GPTConfig cfg = tiny();
  ParamLayout layout = build_layout(cfg);
  EXPECT_EQ(cfg.padded_vocab(), 64);
  ASSERT_EQ(layout.tensors.size(), 2u + 12u * 2 + 2);
  EXPECT_EQ(layout.tensors[0].name, "wte.weight");
  EXPECT_EQ(layout.tensors[0].shape, (std::vector<int64_t>{64, 8}));
  EXPECT_EQ(layout.tensors[0].export_shape, (std::vector<int64_t>{61, 8}));
  EXPECT_EQ(layout.find("h.1.attn.c_attn.weight").shape, (std::vector<int64_t>{8, 24}));
  EXPECT_EQ(layout.find("h.0.mlp.c_proj.weight").shape, (std::vector<int64_t>{32, 8}));
  EXPECT_EQ(layout.tensors.back().name, "ln_f.bias");
  EXPECT_EQ(layout.total % kChunkFloats, 0);
  for (size_t i = 1; i < layout.tensors.size(); ++i) {
    EXPECT_EQ(layout.tensors[i].offset % 16, 0);
    EXPECT_GE(layout.tensors[i].offset, layout.tensors[i - 1].offset + layout.tensors[i - 1].numel);
  }
  EXPECT_FALSE(layout.find("h.0.ln_1.weight").decay);
  EXPECT_FALSE(layout.find("h.0.attn.c_attn.bias").decay);
  EXPECT_TRUE(layout.find("h.0.attn.c_attn.weight").decay);
  // GPT-2 small has 124,439,808 parameters (vocabulary 50257, context 1024).
  EXPECT_EQ(build_layout(GPTConfig{12, 12, 768, 1024, 50257, 0}).n_params(), 124439808);
}

TEST(GptInit, Gpt2Statistics) {
  GPTConfig cfg{4, 4, 64, 16, 256, 0};
  ParamLayout layout = build_layout(cfg);
  std::vector<float> p(layout.total), q(layout.total);
  init_params(cfg, layout, p.data(), 7);
  init_params(cfg, layout, q.data(), 7);
  EXPECT_EQ(0, std::memcmp(p.data(), q.data(), sizeof(float) * p.size())) << "init must be deterministic";
  init_params(cfg, layout, q.data(), 8);
  EXPECT_NE(0, std::memcmp(p.data(), q.data(), sizeof(float) * p.size())) << "seed must matter";
  auto stddev = [&](const std::string& name) {
    const ParamTensor& t = layout.find(name);
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < t.numel; ++i) s += p[t.offset + i], s2 += double(p[t.offset + i]) * p[t.offset + i];
    return std::sqrt(s2 / t.numel - (s / t.numel) * (s / t.numel));
  };
  EXPECT_NEAR(stddev("h.0.attn.c_attn.weight"), 0.02, 0.002);
  EXPECT_NEAR(stddev("h.0.mlp.c_proj.weight"), 0.02 / std::sqrt(8.0), 0.0007);
  EXPECT_EQ(p[layout.find("h.2.ln_1.weight").offset], 1.0f);
  EXPECT_EQ(p[layout.find("h.2.ln_1.bias").offset], 0.0f);
  EXPECT_EQ(p[layout.find("h.2.mlp.c_fc.bias").offset + 5], 0.0f);
}

// d(loss)/d(param) from backward() vs central differences of forward(), for a sample of
// elements in every tensor (the largest-gradient elements plus random ones).
void check_gradients(float dropout) {
  GPTConfig cfg = tiny(dropout);
  const int B = 2, T = 5;
  GPT model(cfg, B, T);
  const ParamLayout& layout = model.layout();
  std::vector<float> params(layout.total), grads(layout.total, 0.0f);
  init_params(cfg, layout, params.data(), 3);
  // Larger weights than GPT-2 init so every path carries a measurable gradient.
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (const ParamTensor& t : layout.tensors) {
    int64_t numel = 1;
    for (int64_t d : t.export_shape) numel *= d;
    for (int64_t i = 0; i < numel; ++i) params[t.offset + i] += normal(rng);
  }
  std::vector<int32_t> tokens(B * T), targets(B * T);
  for (int i = 0; i < B * T; ++i) tokens[i] = int32_t(rng() % 61), targets[i] = int32_t(rng() % 61);
  const DropoutContext drop{true, 11, 2, 1};

  model.forward(params.data(), tokens.data(), targets.data(), drop);
  model.backward(params.data(), grads.data(), 1.0f);

  const double h = 1e-2;
  for (const ParamTensor& t : layout.tensors) {
    int64_t numel = 1;
    for (int64_t d : t.export_shape) numel *= d;
    std::vector<int64_t> picks;
    int64_t argmax = 0;
    for (int64_t i = 0; i < numel; ++i)
      if (std::fabs(grads[t.offset + i]) > std::fabs(grads[t.offset + argmax])) argmax = i;
    picks.push_back(argmax);
    for (int j = 0; j < 4; ++j) picks.push_back(int64_t(rng() % numel));
    for (int64_t i : picks) {
      float& p = params[t.offset + i];
      const float saved = p;
      p = float(saved + h);
      double up = model.forward(params.data(), tokens.data(), targets.data(), drop);
      p = float(saved - h);
      double down = model.forward(params.data(), tokens.data(), targets.data(), drop);
      p = saved;
      double fd = (up - down) / (2 * h);
      double got = grads[t.offset + i];
      EXPECT_TRUE(test::all_close(&got, &fd, 1, {2e-3, 3e-2}, t.name + "[" + std::to_string(i) + "]"));
    }
  }
  // Padded vocabulary rows get no gradient.
  const ParamTensor& wte = layout.find("wte.weight");
  for (int64_t i = 61 * 8; i < 64 * 8; ++i) EXPECT_EQ(grads[wte.offset + i], 0.0f);
}

TEST(GptGradient, MatchesFiniteDifferences) { check_gradients(0.0f); }
TEST(GptGradient, MatchesFiniteDifferencesWithDropout) { check_gradients(0.1f); }

TEST(GptGradient, BackwardAddsScaledGradient) {
  GPTConfig cfg = tiny();
  GPT model(cfg, 2, 5);
  std::vector<float> params(model.layout().total), g1(params.size(), 0.0f), g2(params.size(), 0.0f);
  init_params(cfg, model.layout(), params.data(), 1);
  std::vector<int32_t> tok(10, 3), tgt(10, 7);
  model.forward(params.data(), tok.data(), tgt.data(), {});
  model.backward(params.data(), g1.data(), 0.5f);
  model.forward(params.data(), tok.data(), tgt.data(), {});
  model.backward(params.data(), g2.data(), 0.25f);
  model.forward(params.data(), tok.data(), tgt.data(), {});
  model.backward(params.data(), g2.data(), 0.25f);
  EXPECT_ALL_CLOSE(g2.data(), g1.data(), int64_t(g1.size()), test::kFp32Backward);
}

// The trainer's memory check (train/memory_check.h) uses the estimate before allocating.
TEST(GptMemory, ActivationEstimateEqualsWhatTheModelAllocates) {
  for (const auto& [cfg, B, T] : {std::tuple{tiny(), 2, 5}, std::tuple{GPTConfig{3, 5, 35, 17, 97, 0.1f}, 3, 13}}) {
    GPT model(cfg, B, T);
    EXPECT_EQ(activation_bytes_for(cfg, B, T), model.activation_bytes());
  }
}

TEST(GptForward, RejectsTokensOutsideVocabulary) {
  GPTConfig cfg = tiny();
  GPT model(cfg, 1, 5);
  std::vector<float> params(model.layout().total);
  std::vector<int32_t> tok{1, 2, 61, 3, 4};
  try {
    model.forward(params.data(), tok.data(), nullptr, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token id 61 outside vocabulary of 61"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cairn::gpt

// tests/model/llama_test.cpp — the Llama family as a whole: HF layout names and shapes, the
// packed projections back to back, and the gradient of the full model (every parameter tensor)
// against central finite differences on tiny GQA configs, tied and untied, with and without
// attention dropout.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>

#include "core/error.h"
#include "core/sharding.h"
#include "models/llama/llama.h"
#include "tolerance.h"

namespace cairn::llama {
namespace {

// 2 layers, 4 query heads of 4 over 2 key/value heads, FFN 24, vocabulary 61 (padded to 64).
LlamaConfig tiny(bool tied = true, float dropout = 0.0f) {
  LlamaConfig c;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_kv_head = 2;
  c.n_embd = 16;
  c.ffn_dim = 24;
  c.seq_len = 9;
  c.vocab_size = 61;
  c.rope_theta = 10000.0f;
  c.tie_embeddings = tied;
  c.dropout = dropout;
  return c;
}

TEST(LlamaLayout, HfNamesShapesAndPackedProjections) {
  const ParamLayout layout = build_layout(tiny(false));
  EXPECT_EQ(layout.tensors.front().name, "model.embed_tokens.weight");
  EXPECT_EQ(layout.tensors.front().shape, (std::vector<int64_t>{64, 16}));
  EXPECT_EQ(layout.tensors.front().export_shape, (std::vector<int64_t>{61, 16}));
  EXPECT_EQ(layout.find("model.layers.1.self_attn.k_proj.weight").shape, (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(layout.find("model.layers.0.mlp.down_proj.weight").shape, (std::vector<int64_t>{16, 24}));
  EXPECT_EQ(layout.tensors.back().name, "lm_head.weight");
  EXPECT_FALSE(layout.find("model.norm.weight").decay);
  EXPECT_EQ(layout.total % kChunkFloats, 0);
  EXPECT_THROW(build_layout(tiny(true)).find("lm_head.weight"), Error);
  // SmolLM2-135M: 134,515,008 parameters (tied embeddings).
  LlamaConfig smol;
  smol.n_layer = 30, smol.n_head = 9, smol.n_kv_head = 3, smol.n_embd = 576, smol.ffn_dim = 1536;
  smol.seq_len = 2048, smol.vocab_size = 49152;
  EXPECT_EQ(build_layout(smol).n_params(), 134515008);
}

void check_gradients(const LlamaConfig& cfg) {
  const int B = 2, T = 7;
  Llama model(cfg, B, T);
  const ParamLayout& layout = model.layout();
  std::vector<float> params(layout.total), grads(layout.total, 0.0f);
  models::init_params(layout, params.data(), 3);
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
      const double up = model.forward(params.data(), tokens.data(), targets.data(), drop);
      p = float(saved - h);
      const double down = model.forward(params.data(), tokens.data(), targets.data(), drop);
      p = saved;
      const double fd = (up - down) / (2 * h);
      const double got = grads[t.offset + i];
      EXPECT_TRUE(test::all_close(&got, &fd, 1, {2e-3, 3e-2}, t.name + "[" + std::to_string(i) + "]"));
    }
  }
  const ParamTensor& embed = layout.find("model.embed_tokens.weight");
  for (int64_t i = 61 * 16; i < 64 * 16; ++i) EXPECT_EQ(grads[embed.offset + i], 0.0f);
}

TEST(LlamaGradient, MatchesFiniteDifferences) { check_gradients(tiny(true)); }
TEST(LlamaGradient, MatchesFiniteDifferencesUntiedWithDropout) { check_gradients(tiny(false, 0.1f)); }

TEST(LlamaMemory, ActivationEstimateEqualsWhatTheModelAllocates) {
  for (const auto& [cfg, B, T] : {std::tuple{tiny(), 2, 5}, std::tuple{tiny(false, 0.1f), 3, 9}}) {
    Llama model(cfg, B, T);
    EXPECT_EQ(activation_bytes_for(cfg, B, T), model.activation_bytes());
  }
}

}  // namespace
}  // namespace cairn::llama

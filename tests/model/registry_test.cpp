// The model registry and interface (models/model.h): an unknown model.arch names the
// registered families; the gpt2 family behind the interface is exactly gpt::GPT; init kinds
// carried by the layout give the bits the former name-matching initialisation gave.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/philox.h"
#include "core/sharding.h"
#include "models/gpt/gpt.h"
#include "models/llama/llama.h"
#include "models/model.h"

namespace cairn::models {
namespace {

ModelConfig tiny() {
  ModelConfig c;
  c.n_layer = 3;
  c.n_head = 2;
  c.n_embd = 16;
  c.seq_len = 7;
  c.vocab_size = 61;
  c.dropout = 0.1;
  return c;
}

TEST(ModelRegistry, UnknownArchListsTheRegisteredFamilies) {
  EXPECT_EQ(registered_archs(), (std::vector<std::string>{"gpt2", "llama"}));
  EXPECT_EQ(&family("gpt2"), &gpt::family());
  EXPECT_EQ(&family("llama"), &llama::family());
  try {
    family("mamba");
    FAIL() << "family(\"mamba\") must throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "model.arch = \"mamba\" is not a registered model family (registered: gpt2, llama)");
  }
  ModelConfig c = tiny();
  c.arch = "gpt3";
  EXPECT_THROW(build_layout(c), Error);
  EXPECT_THROW(create(c, 1, 1), Error);
}

// model.arch = "llama" behind the interface is llama::Llama on llama_config(cfg): the same
// layout, the same loss and the same gradient bits.
TEST(ModelRegistry, LlamaFamilyIsTheLlamaClass) {
  ModelConfig c = tiny();
  c.arch = "llama";
  c.n_head = 4;
  c.n_kv_head = 2;
  c.n_embd = 16;
  c.ffn_dim = 24;
  c.rope_theta = 500.0;
  c.tie_embeddings = false;
  const llama::LlamaConfig lc = llama::llama_config(c);
  EXPECT_EQ(lc.n_kv_head, 2);
  EXPECT_EQ(lc.ffn_dim, 24);
  EXPECT_EQ(lc.rope_theta, 500.0f);
  EXPECT_FALSE(lc.tie_embeddings);
  const ParamLayout layout = build_layout(c);
  const ParamLayout direct = llama::build_layout(lc);
  ASSERT_EQ(layout.tensors.size(), direct.tensors.size());
  EXPECT_EQ(layout.total, direct.total);
  EXPECT_EQ(layout.tensors.back().name, "lm_head.weight");
  EXPECT_EQ(activation_bytes(c, 2, 5), llama::activation_bytes_for(lc, 2, 5));

  std::vector<float> params(size_t(layout.total));
  init_params(layout, params.data(), 7);
  std::vector<int32_t> tokens(10), targets(10);
  for (int i = 0; i < 10; ++i) tokens[i] = (i * 13) % 61, targets[i] = (i * 7 + 3) % 61;
  const DropoutContext drop{true, 5, 1, 0};
  auto run = [&](Model& m) {
    std::vector<float> grads(size_t(layout.total), 0.0f);
    const double loss = m.forward(params.data(), tokens.data(), targets.data(), drop);
    m.backward(params.data(), grads.data(), 1.0f);
    return std::make_pair(loss, grads);
  };
  auto via_registry = create(c, 2, 5);
  llama::Llama by_hand(lc, 2, 5);
  const auto a = run(*via_registry), b = run(by_hand);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
}

// GPT-2's initialisation as it was chosen by tensor name before init kinds were in the layout
// (models/gpt/layout.cpp at dffea94): the reference the layout-driven init must equal bitwise.
void name_matching_init(const gpt::GPTConfig& cfg, const ParamLayout& layout, float* params, uint64_t seed) {
  auto ends_with = [](const std::string& s, const std::string& x) {
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  std::fill(params, params + layout.total, 0.0f);
  const PhiloxStream rng{seed, RngPurpose::kInit};
  const float residual_std = 0.02f / std::sqrt(2.0f * float(cfg.n_layer));
  for (size_t i = 0; i < layout.tensors.size(); ++i) {
    const ParamTensor& t = layout.tensors[i];
    float* p = params + t.offset;
    if (ends_with(t.name, ".bias")) continue;
    if (t.name.find("ln_") != std::string::npos) {
      std::fill(p, p + t.numel, 1.0f);
      continue;
    }
    const bool residual = ends_with(t.name, "attn.c_proj.weight") || ends_with(t.name, "mlp.c_proj.weight");
    const float std = residual ? residual_std : 0.02f;
    int64_t numel = 1;
    for (int64_t d : t.export_shape) numel *= d;
    for (int64_t e = 0; e < numel; ++e) {
      Philox4x32 r = rng.draw(uint32_t(e >> 1), uint32_t(i), uint32_t(e >> 33), 0);
      p[e] = std * ((e & 1) ? normal_from_u32(r.v[2], r.v[3]) : normal_from_u32(r.v[0], r.v[1]));
    }
  }
}

TEST(ModelRegistry, LayoutInitKindsGiveTheNameMatchedBits) {
  const ModelConfig c = tiny();
  const ParamLayout layout = build_layout(c);
  EXPECT_EQ(layout.find("h.2.ln_2.weight").init, InitKind::kOnes);
  EXPECT_EQ(layout.find("h.2.ln_2.bias").init, InitKind::kZeros);
  EXPECT_EQ(layout.find("h.0.mlp.c_fc.bias").init, InitKind::kZeros);
  EXPECT_EQ(layout.find("wte.weight").init, InitKind::kNormal);
  EXPECT_EQ(layout.find("wte.weight").init_std, 0.02f);
  EXPECT_EQ(layout.find("h.1.attn.c_proj.weight").init_std, 0.02f / std::sqrt(6.0f));
  std::vector<float> got(size_t(layout.total), -1.0f), want(size_t(layout.total), -2.0f);
  init_params(layout, got.data(), 1337);
  name_matching_init(gpt::gpt_config(c), layout, want.data(), 1337);
  EXPECT_EQ(got, want);
}

TEST(ModelRegistry, Gpt2BehindTheInterfaceIsGpt) {
  const ModelConfig c = tiny();
  const int B = 2, T = 5;
  std::unique_ptr<Model> m = create(c, B, T);
  gpt::GPT direct(gpt::gpt_config(c), B, T);
  ASSERT_EQ(m->layout().total, direct.layout().total);
  EXPECT_EQ(m->B(), B);
  EXPECT_EQ(m->T(), T);
  EXPECT_EQ(m->padded_vocab(), 64);
  EXPECT_EQ(m->activation_bytes(), activation_bytes(c, B, T));
  EXPECT_EQ(m->activation_bytes(), direct.activation_bytes());
  std::vector<float> params(size_t(m->layout().total));
  init_params(m->layout(), params.data(), 5);
  std::vector<int32_t> tokens(B * T), targets(B * T);
  for (int i = 0; i < B * T; ++i) tokens[i] = (7 * i) % 61, targets[i] = (11 * i + 3) % 61;
  const DropoutContext drop{true, 9, 4, 1};  // model.dropout reaches the family
  const double a = m->forward(params.data(), tokens.data(), targets.data(), drop);
  const double b = direct.forward(params.data(), tokens.data(), targets.data(), drop);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, direct.forward(params.data(), tokens.data(), targets.data(), DropoutContext{}));
  std::vector<float> ga(params.size(), 0.0f), gb(params.size(), 0.0f);
  m->forward(params.data(), tokens.data(), targets.data(), drop);
  m->backward(params.data(), ga.data(), 1.0f);
  direct.forward(params.data(), tokens.data(), targets.data(), drop);
  direct.backward(params.data(), gb.data(), 1.0f);
  EXPECT_EQ(ga, gb);
}

}  // namespace
}  // namespace cairn::models

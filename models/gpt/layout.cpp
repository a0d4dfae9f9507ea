// models/gpt/layout.cpp — the canonical parameter layout and GPT-2 initialisation.
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"
#include "core/philox.h"
#include "core/sharding.h"
#include "models/gpt/gpt.h"

namespace cairn::gpt {

namespace {
constexpr int64_t kTensorAlign = 16;  // floats: every tensor starts 64-byte aligned
}

ParamLayout build_layout(const GPTConfig& cfg) {
  const int64_t C = cfg.n_embd, Vp = cfg.padded_vocab(), T = cfg.seq_len;
  ParamLayout layout;
  int64_t offset = 0;
  auto add = [&](std::string name, std::vector<int64_t> shape, bool decay) {
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    ParamTensor t{std::move(name), shape, shape, offset, numel, decay};
    offset += ceil_div(numel, kTensorAlign) * kTensorAlign;
    layout.tensors.push_back(std::move(t));
  };
  add("wte.weight", {Vp, C}, true);
  layout.tensors.back().export_shape = {cfg.vocab_size, C};
  add("wpe.weight", {T, C}, true);
  for (int l = 0; l < cfg.n_layer; ++l) {
    std::string h = "h." + std::to_string(l) + ".";
    add(h + "ln_1.weight", {C}, false);
    add(h + "ln_1.bias", {C}, false);
    add(h + "attn.c_attn.weight", {C, 3 * C}, true);
    add(h + "attn.c_attn.bias", {3 * C}, false);
    add(h + "attn.c_proj.weight", {C, C}, true);
    add(h + "attn.c_proj.bias", {C}, false);
    add(h + "ln_2.weight", {C}, false);
    add(h + "ln_2.bias", {C}, false);
    add(h + "mlp.c_fc.weight", {C, 4 * C}, true);
    add(h + "mlp.c_fc.bias", {4 * C}, false);
    add(h + "mlp.c_proj.weight", {4 * C, C}, true);
    add(h + "mlp.c_proj.bias", {C}, false);
  }
  add("ln_f.weight", {C}, false);
  add("ln_f.bias", {C}, false);
  layout.total = ceil_div(offset, kChunkFloats) * kChunkFloats;
  return layout;
}

int64_t ParamLayout::n_params() const {
  int64_t n = 0;
  for (const auto& t : tensors) {
    int64_t e = 1;
    for (int64_t d : t.export_shape) e *= d;
    n += e;
  }
  return n;
}

const ParamTensor& ParamLayout::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return t;
  CAIRN_FAIL("no parameter named '", name, "'");
}

static bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void init_params(const GPTConfig& cfg, const ParamLayout& layout, float* params, uint64_t seed) {
  std::fill(params, params + layout.total, 0.0f);
  const PhiloxStream rng{seed, RngPurpose::kInit};
  const float residual_std = 0.02f / std::sqrt(2.0f * float(cfg.n_layer));
  for (size_t i = 0; i < layout.tensors.size(); ++i) {
    const ParamTensor& t = layout.tensors[i];
    float* p = params + t.offset;
    if (ends_with(t.name, ".bias")) continue;  // zeros
    if (t.name.find("ln_") != std::string::npos) {
      std::fill(p, p + t.numel, 1.0f);
      continue;
    }
    const bool residual = ends_with(t.name, "attn.c_proj.weight") || ends_with(t.name, "mlp.c_proj.weight");
    const float std = residual ? residual_std : 0.02f;
    int64_t numel = 1;  // only the real rows of wte; padded rows stay zero
    for (int64_t d : t.export_shape) numel *= d;
    constexpr int64_t kTile = 1 << 14;
    parallel_for(ceil_div(numel, kTile), [&](int64_t tile) {
      int64_t end = std::min(numel, (tile + 1) * kTile);
      for (int64_t e = tile * kTile; e < end; ++e) {
        Philox4x32 r = rng.draw(uint32_t(e >> 1), uint32_t(i), uint32_t(e >> 33), 0);
        p[e] = std * ((e & 1) ? normal_from_u32(r.v[2], r.v[3]) : normal_from_u32(r.v[0], r.v[1]));
      }
    });
  }
}

}  // namespace cairn::gpt

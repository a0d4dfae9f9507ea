// models/gpt/layout.cpp — GPT-2's canonical parameter layout, with each tensor's init kind.
#include <cmath>

#include "models/gpt/gpt.h"

namespace cairn::gpt {

ParamLayout build_layout(const GPTConfig& cfg) {
  using models::InitKind;
  const int64_t C = cfg.n_embd, Vp = cfg.padded_vocab(), T = cfg.seq_len;
  // GPT-2's scaled init: the two projections that add into the residual stream, per layer.
  const float residual_std = 0.02f / std::sqrt(2.0f * float(cfg.n_layer));
  ParamLayout layout;
  auto matrix = [&](std::string name, std::vector<int64_t> shape, float std = 0.02f) {
    layout.add(std::move(name), std::move(shape), true, InitKind::kNormal, std);
  };
  auto bias = [&](std::string name, int64_t n) { layout.add(std::move(name), {n}, false, InitKind::kZeros); };
  auto norm_weight = [&](std::string name) { layout.add(std::move(name), {C}, false, InitKind::kOnes); };
  matrix("wte.weight", {Vp, C});
  layout.tensors.back().export_shape = {cfg.vocab_size, C};
  matrix("wpe.weight", {T, C});
  for (int l = 0; l < cfg.n_layer; ++l) {
    std::string h = "h." + std::to_string(l) + ".";
    norm_weight(h + "ln_1.weight");
    bias(h + "ln_1.bias", C);
    matrix(h + "attn.c_attn.weight", {C, 3 * C});
    bias(h + "attn.c_attn.bias", 3 * C);
    matrix(h + "attn.c_proj.weight", {C, C}, residual_std);
    bias(h + "attn.c_proj.bias", C);
    norm_weight(h + "ln_2.weight");
    bias(h + "ln_2.bias", C);
    matrix(h + "mlp.c_fc.weight", {C, 4 * C});
    bias(h + "mlp.c_fc.bias", 4 * C);
    matrix(h + "mlp.c_proj.weight", {4 * C, C}, residual_std);
    bias(h + "mlp.c_proj.bias", C);
  }
  norm_weight("ln_f.weight");
  bias("ln_f.bias", C);
  layout.finish();
  return layout;
}

void init_params(const GPTConfig&, const ParamLayout& layout, float* params, uint64_t seed) {
  models::init_params(layout, params, seed);
}

}  // namespace cairn::gpt

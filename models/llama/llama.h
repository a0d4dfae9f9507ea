// models/llama/llama.h — Llama-style decoder (Llama 2/3, SmolLM2, Qwen2 without biases) on one
// flat fp32 parameter buffer, with Hugging Face LlamaForCausalLM's tensor names and formulas.
//
// Architecture: token embedding (no position embedding), n_layer pre-norm blocks of RMSNorm ->
// grouped-query causal self-attention with rotary position embeddings (rope_theta, HF's
// rotate_half pairs) -> residual, RMSNorm -> SwiGLU MLP (down(silu(gate x) * up x)) ->
// residual; a final RMSNorm and an LM head, tied to the embedding or its own lm_head.weight.
// No biases. Dropout (LlamaConfig::dropout) on attention probabilities only, as HF's
// attention_dropout, masks from Philox counters as GPT-2's (DESIGN §2.6). The vocabulary is
// padded to a multiple of 64 (Vp): padded rows stay zero and padded logits are masked out of
// the loss.
//
// The runtime reaches this family only through models/model.h: family() (family.cpp) is its
// entry in models/registry.cpp, model.arch = "llama", with the model.n_kv_head, ffn_dim,
// rope_theta, rms_norm_eps and tie_embeddings keys (models/model_config.h).
//
// Layout: HF state-dict order per layer (q, k, v, o projections, gate, up, down, the two
// norms). The kernels want q|k|v and gate|up as one packed product, so those tensors must be
// back to back in the flat buffer; the constructor checks it (it holds whenever the
// projections' sizes are multiples of 16 floats, e.g. n_embd % 4 == 0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "models/model.h"

namespace cairn::llama {

struct LlamaConfig {
  int n_layer = 0;
  int n_head = 0;
  int n_kv_head = 0;  // n_head % n_kv_head == 0
  int n_embd = 0;     // head_dim = n_embd / n_head (even)
  int ffn_dim = 0;    // intermediate_size
  int seq_len = 0;
  int vocab_size = 0;
  float rope_theta = 10000.0f;
  float rms_norm_eps = 1e-5f;
  bool tie_embeddings = true;
  float dropout = 0.0f;
  int head_dim() const { return n_embd / n_head; }
  int padded_vocab() const { return (vocab_size + 63) / 64 * 64; }
  int qkv_width() const { return (n_head + 2 * n_kv_head) * head_dim(); }
};

using models::DropoutContext;
using models::ParamLayout;
using models::ParamTensor;

// Weights N(0, 0.02) (HF initializer_range), RMSNorm weights 1, padding 0.
ParamLayout build_layout(const LlamaConfig& cfg);
size_t activation_bytes_for(const LlamaConfig& cfg, int B, int T);

// The [model] section as a LlamaConfig (n_kv_head 0 -> n_head).
LlamaConfig llama_config(const ModelConfig& cfg);
// model.arch = "llama", for models/registry.cpp.
const models::ModelFamily& family();

class Llama : public models::Model {
 public:
  Llama(const LlamaConfig& cfg, int B, int T, const KernelOps& ops = cpu_ops());

  const LlamaConfig& config() const { return cfg_; }
  const ParamLayout& layout() const override { return layout_; }
  double forward(const float* params, const int32_t* tokens, const int32_t* targets,
                 const DropoutContext& drop) override;
  void backward(const float* params, float* grads, float loss_scale) override;
  const float* logits() override;
  int padded_vocab() const override { return cfg_.padded_vocab(); }
  size_t activation_bytes() const override;
  int B() const override { return B_; }
  int T() const override { return T_; }

 private:
  template <class F>
  static void for_each_activation(const LlamaConfig& cfg, int B, int T, F&& f);
  friend size_t activation_bytes_for(const LlamaConfig& cfg, int B, int T);

  DropoutSite site(int layer, int which) const;

  struct LayerParams {
    int64_t ln_1, qkv, o_proj, ln_2, gate_up, down;  // qkv = q_proj (k, v follow); gate_up = gate_proj
  };
  int64_t embed_ = 0, norm_ = 0, head_ = 0;  // head_ == embed_ when tied
  std::vector<LayerParams> layers_;

  LlamaConfig cfg_;
  ParamLayout layout_;
  const KernelOps* ops_;
  int B_, T_;
  bool have_targets_ = false;
  DropoutContext drop_;
  DeviceBuffer<int32_t> tokens_, targets_;
  // rope cos/sin [T, hd/2] (computed on the host, uploaded); zero position embedding and its
  // unused gradient, so encoder_forward/backward serve as the token embedding.
  DeviceBuffer<float> rope_cos_, rope_sin_, zero_pos_, zero_pos_grad_;
  DeviceBuffer<float> encoded_, ln1_, rstd1_, qkv_, lse_, atty_, attproj_, res2_, ln2_, rstd2_, gate_up_, act_,
      mlp_out_, res3_, lnf_, rstdf_, logits_, losses_;
  DeviceBuffer<float> d_res_, d_a_, d_qkv_, d_gate_up_, d_act_;
  std::vector<float> host_losses_, host_logits_;
};

}  // namespace cairn::llama

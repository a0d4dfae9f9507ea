// models/gpt/gpt.h — GPT-2 (Radford et al. 2019) on one flat fp32 parameter buffer.
//
// Architecture: token + learned position embeddings, n_layer pre-LayerNorm blocks (causal
// multi-head self-attention, then a 4x MLP with tanh-GELU), a final LayerNorm, and an LM head
// tied to the token embedding. Dropout (model.dropout) after the embeddings, on attention
// probabilities and on both residual branches, masks drawn from Philox counters (DESIGN §2.6).
// The vocabulary is padded to a multiple of 64 (Vp); padded logits are masked out of the loss
// and the padded embedding rows stay zero.
//
// Parameters, gradients and AdamW moments share one canonical layout (models::ParamLayout):
// the HF GPT-2 tensors in state-dict order with HF names and shapes (Conv1D weights are
// [in, out]), each starting on a 16-float boundary, total padded to a multiple of kChunkFloats.
//
// The runtime reaches this family only through models/model.h: family() is its entry in
// models/registry.cpp (model.arch = "gpt2"). GPTConfig and GPT are public for the model tests.
//
// GPT owns the activation buffers for one micro-batch of B sequences and computes
// forward (loss) and backward (gradient ADDED into a flat gradient buffer) through kernels/.
// It runs on the device of the KernelOps it is given (kernels/ops.h): cpu_ops() by default,
// cuda_ops() for run.device = cuda. Activations live on that device, and the parameter and
// gradient buffers passed to forward/backward must too; tokens and targets are host arrays.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "models/model.h"

namespace cairn::gpt {

struct GPTConfig {
  int n_layer = 0;
  int n_head = 0;
  int n_embd = 0;
  int seq_len = 0;      // maximum context T (size of the position embedding)
  int vocab_size = 0;   // V
  float dropout = 0.0f;
  int padded_vocab() const { return (vocab_size + 63) / 64 * 64; }
};

// The GPT-2 view of the [model] config section (the one place it is built).
GPTConfig gpt_config(const ModelConfig& cfg);

// model.arch = "gpt2" (models/registry.cpp).
const models::ModelFamily& family();

using models::DropoutContext;
using models::ParamLayout;
using models::ParamTensor;

// The layout carries GPT-2's initialisation (models::init_params draws it): weights
// N(0, 0.02), residual projections (attn.c_proj, mlp.c_proj) N(0, 0.02/sqrt(2*n_layer)),
// biases 0, LayerNorm weight 1 / bias 0, padded vocabulary rows and inter-tensor padding 0.
ParamLayout build_layout(const GPTConfig& cfg);
// models::init_params(layout, params, seed); kept for the model tests.
void init_params(const GPTConfig& cfg, const ParamLayout& layout, float* params, uint64_t seed);

// Bytes of activation memory GPT(cfg, B, T) allocates (activation_bytes() of such a model),
// computed without allocating: the trainer checks it against the memory available first.
size_t activation_bytes_for(const GPTConfig& cfg, int B, int T);

class GPT : public models::Model {
 public:
  // Allocates activations (on ops' device) for micro-batches of B sequences of
  // T <= cfg.seq_len tokens.
  GPT(const GPTConfig& cfg, int B, int T, const KernelOps& ops = cpu_ops());

  const GPTConfig& config() const { return cfg_; }
  const ParamLayout& layout() const override { return layout_; }

  // Mean cross-entropy over the B*T targets. With targets == nullptr only logits are computed
  // (see logits()). Keeps the activations for backward().
  double forward(const float* params, const int32_t* tokens, const int32_t* targets,
                 const DropoutContext& drop) override;
  // Adds d(loss * loss_scale)/d(params) into grads (flat, layout()). Must follow forward() with
  // targets, with the same dropout context.
  void backward(const float* params, float* grads, float loss_scale) override;

  // Logits [B, T, Vp] of the last forward(), in host memory (copied from the device if needed).
  const float* logits() override;
  int padded_vocab() const override { return cfg_.padded_vocab(); }
  const KernelOps& ops() const { return *ops_; }
  // Bytes of activation memory held on the device.
  size_t activation_bytes() const override;
  int B() const override { return B_; }
  int T() const override { return T_; }

 private:
  // Calls f(&GPT::buffer, elements) for every activation buffer of GPT(cfg, B, T): the one
  // list behind the constructor's allocations, activation_bytes() and activation_bytes_for().
  template <class F>
  static void for_each_activation(const GPTConfig& cfg, int B, int T, F&& f);
  friend size_t activation_bytes_for(const GPTConfig& cfg, int B, int T);

  DropoutSite site(int layer, int which) const;

  // Offsets of every parameter tensor in the flat buffer, resolved once from layout_.
  struct LayerParams {
    int64_t ln_1_w, ln_1_b, c_attn_w, c_attn_b, attn_proj_w, attn_proj_b;
    int64_t ln_2_w, ln_2_b, c_fc_w, c_fc_b, mlp_proj_w, mlp_proj_b;
  };
  int64_t wte_ = 0, wpe_ = 0, ln_f_w_ = 0, ln_f_b_ = 0;
  std::vector<LayerParams> layers_;

  GPTConfig cfg_;
  ParamLayout layout_;
  const KernelOps* ops_;
  int B_, T_;
  bool have_targets_ = false;
  DropoutContext drop_;
  // Inputs of the last forward, copied to the device: tokens [N], targets [N].
  DeviceBuffer<int32_t> tokens_, targets_;
  // Forward activations (see gpt.cpp for shapes), one block per layer where needed.
  DeviceBuffer<float> encoded_, ln1_, ln1_stats_, qkv_, att_, atty_, attproj_, res2_, ln2_,
      ln2_stats_, fch_, fch_gelu_, fcproj_, res3_, lnf_, lnf_stats_, logits_, losses_;
  // Backward scratch: gradients of activations, reused across layers.
  DeviceBuffer<float> d_res_, d_a_, d_b_, d_qkv_, d_fch_, drop_scratch_;
  std::vector<float> host_losses_, host_logits_;
};

}  // namespace cairn::gpt

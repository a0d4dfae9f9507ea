// models/llama/llama.cpp — the Llama layout and forward/backward for one micro-batch,
// through kernels/ (every op via the KernelOps table: one file for CPU and GPU).
//
// Activation shapes (N = B*T, L = n_layer, W = (NH + 2*NKV)*hd, F = ffn_dim):
//   encoded [N,C]            token embeddings
//   ln1, ln2 [L,N,C]         RMSNorm outputs; rstd1, rstd2 [L,N]
//   qkv [L,N,W]              q|k|v after RoPE on q and k (what attention and its backward read)
//   lse [L,B,NH,T]           attention row logsumexp; atty [L,N,C] attention output
//   res2 [L,N,C] = x + o_proj(atty)        res3 [L,N,C] = res2 + down(act)
//   gate_up [L,N,2F]         act = swiglu(gate_up) [N,F] is one layer's worth, recomputed
//   attproj, mlp_out [N,C]   one layer's worth (backward needs neither)
//   lnf [N,C], rstdf [N], logits [N,Vp] (overwritten by dlogits in backward), losses [N]
#include "models/llama/llama.h"

#include <type_traits>
#include <utility>

#include "core/error.h"
#include "kernels/kernels.h"

namespace cairn::llama {

ParamLayout build_layout(const LlamaConfig& cfg) {
  using models::InitKind;
  const int64_t C = cfg.n_embd, hd = cfg.head_dim(), F = cfg.ffn_dim, Vp = cfg.padded_vocab();
  const int64_t NH = cfg.n_head, NKV = cfg.n_kv_head;
  ParamLayout layout;
  auto matrix = [&](std::string name, std::vector<int64_t> shape) {
    layout.add(std::move(name), std::move(shape), true, InitKind::kNormal, 0.02f);
  };
  auto norm = [&](std::string name) { layout.add(std::move(name), {C}, false, InitKind::kOnes); };
  matrix("model.embed_tokens.weight", {Vp, C});
  layout.tensors.back().export_shape = {cfg.vocab_size, C};
  for (int l = 0; l < cfg.n_layer; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    matrix(p + "self_attn.q_proj.weight", {NH * hd, C});
    matrix(p + "self_attn.k_proj.weight", {NKV * hd, C});
    matrix(p + "self_attn.v_proj.weight", {NKV * hd, C});
    matrix(p + "self_attn.o_proj.weight", {C, NH * hd});
    matrix(p + "mlp.gate_proj.weight", {F, C});
    matrix(p + "mlp.up_proj.weight", {F, C});
    matrix(p + "mlp.down_proj.weight", {C, F});
    norm(p + "input_layernorm.weight");
    norm(p + "post_attention_layernorm.weight");
  }
  norm("model.norm.weight");
  if (!cfg.tie_embeddings) {
    matrix("lm_head.weight", {Vp, C});
    layout.tensors.back().export_shape = {cfg.vocab_size, C};
  }
  layout.finish();
  return layout;
}

template <class F>
void Llama::for_each_activation(const LlamaConfig& cfg, int B, int T, F&& f) {
  const size_t L = cfg.n_layer, N = size_t(B) * T, C = cfg.n_embd, NH = cfg.n_head;
  const size_t W = cfg.qkv_width(), FF = cfg.ffn_dim, half = cfg.head_dim() / 2;
  f(&Llama::rope_cos_, size_t(T) * half);
  f(&Llama::rope_sin_, size_t(T) * half);
  f(&Llama::zero_pos_, size_t(T) * C);
  f(&Llama::zero_pos_grad_, size_t(T) * C);
  f(&Llama::encoded_, N * C);
  f(&Llama::ln1_, L * N * C);
  f(&Llama::rstd1_, L * N);
  f(&Llama::qkv_, L * N * W);
  f(&Llama::lse_, L * NH * N);
  f(&Llama::atty_, L * N * C);
  f(&Llama::attproj_, N * C);
  f(&Llama::res2_, L * N * C);
  f(&Llama::ln2_, L * N * C);
  f(&Llama::rstd2_, L * N);
  f(&Llama::gate_up_, L * N * 2 * FF);
  f(&Llama::act_, N * FF);
  f(&Llama::mlp_out_, N * C);
  f(&Llama::res3_, L * N * C);
  f(&Llama::lnf_, N * C);
  f(&Llama::rstdf_, N);
  f(&Llama::logits_, N * size_t(cfg.padded_vocab()));
  f(&Llama::losses_, N);
  f(&Llama::d_res_, N * C);
  f(&Llama::d_a_, N * C);
  f(&Llama::d_qkv_, N * W);
  f(&Llama::d_gate_up_, N * 2 * FF);
  f(&Llama::d_act_, N * FF);
  f(&Llama::tokens_, N);
  f(&Llama::targets_, N);
}

Llama::Llama(const LlamaConfig& cfg, int B, int T, const KernelOps& ops)
    : cfg_(cfg), layout_(build_layout(cfg)), ops_(&ops), B_(B), T_(T) {
  CAIRN_CHECK(T >= 1 && T <= cfg.seq_len, "[llama] sequence length ", T, " outside [1, ", cfg.seq_len, "]");
  CAIRN_CHECK(cfg.n_head > 0 && cfg.n_kv_head > 0 && cfg.n_head % cfg.n_kv_head == 0, "[llama] n_head ", cfg.n_head,
              " is not a multiple of n_kv_head ", cfg.n_kv_head);
  CAIRN_CHECK(cfg.n_embd % cfg.n_head == 0 && cfg.head_dim() % 2 == 0, "[llama] n_embd ", cfg.n_embd,
              " must be n_head (", cfg.n_head, ") times an even head dimension");
  for_each_activation(cfg, B, T, [&](auto member, size_t n) {
    auto& buffer = this->*member;
    buffer = std::remove_reference_t<decltype(buffer)>(ops, n);
  });
  host_losses_.resize(size_t(B) * T);
  std::vector<float> cos(rope_cos_.size()), sin(rope_sin_.size());
  cpu::rope_table(cos.data(), sin.data(), T, cfg.head_dim(), cfg.rope_theta);
  rope_cos_.upload(cos.data(), cos.size());
  rope_sin_.upload(sin.data(), sin.size());

  auto at = [&](const std::string& name) { return layout_.find(name).offset; };
  // Tensors one packed product reads as one matrix must be back to back.
  auto follows = [&](const std::string& a, const std::string& b) {
    const ParamTensor& ta = layout_.find(a);
    CAIRN_CHECK(layout_.find(b).offset == ta.offset + ta.numel, "[llama] ", b, " does not follow ", a,
                " in the flat buffer (choose n_embd and ffn_dim so the projections are multiples of 16 floats)");
  };
  embed_ = at("model.embed_tokens.weight");
  norm_ = at("model.norm.weight");
  head_ = cfg.tie_embeddings ? embed_ : at("lm_head.weight");
  for (int l = 0; l < cfg.n_layer; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    follows(p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight");
    follows(p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight");
    follows(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight");
    layers_.push_back({at(p + "input_layernorm.weight"), at(p + "self_attn.q_proj.weight"),
                       at(p + "self_attn.o_proj.weight"), at(p + "post_attention_layernorm.weight"),
                       at(p + "mlp.gate_proj.weight"), at(p + "mlp.down_proj.weight")});
  }
}

// Dropout applies to attention probabilities only (HF's attention_dropout).
DropoutSite Llama::site(int layer, int which) const {
  DropoutSite s;
  s.p = drop_.training ? cfg_.dropout : 0.0f;
  s.seed = drop_.seed;
  s.step = drop_.step;
  s.micro_batch = drop_.micro_batch;
  s.site = uint32_t(layer) * 8u + uint32_t(which);
  return s;
}

double Llama::forward(const float* params, const int32_t* tokens, const int32_t* targets,
                      const DropoutContext& drop) {
  const int B = B_, T = T_, C = cfg_.n_embd, NH = cfg_.n_head, NKV = cfg_.n_kv_head, hd = cfg_.head_dim();
  const int V = cfg_.vocab_size, Vp = cfg_.padded_vocab(), L = cfg_.n_layer, N = B * T, W = cfg_.qkv_width();
  const int F = cfg_.ffn_dim;
  const size_t NC = size_t(N) * C;
  const float eps = cfg_.rms_norm_eps;
  for (int i = 0; i < N; ++i)
    CAIRN_CHECK(tokens[i] >= 0 && tokens[i] < V, "[llama] token id ", tokens[i], " outside vocabulary of ", V);
  tokens_.upload(tokens, N);
  have_targets_ = targets != nullptr;
  drop_ = drop;
  ops_->encoder_forward(encoded_.data(), tokens_.data(), params + embed_, zero_pos_.data(), B, T, C);

  for (int l = 0; l < L; ++l) {
    const LayerParams& w = layers_[l];
    const float* x = l == 0 ? encoded_.data() : res3_.data() + (l - 1) * NC;
    float* ln1 = ln1_.data() + l * NC;
    float* qkv = qkv_.data() + size_t(l) * N * W;
    float* atty = atty_.data() + l * NC;
    float* res2 = res2_.data() + l * NC;
    float* ln2 = ln2_.data() + l * NC;
    float* gate_up = gate_up_.data() + size_t(l) * N * 2 * F;
    float* res3 = res3_.data() + l * NC;

    ops_->rmsnorm_forward(ln1, rstd1_.data() + size_t(l) * N, x, params + w.ln_1, N, C, eps);
    ops_->matmul_nt_forward(qkv, ln1, params + w.qkv, N, C, W);
    ops_->rope_forward(qkv, qkv, rope_cos_.data(), rope_sin_.data(), B, T, NH + NKV, hd, W);
    ops_->attention_lse_forward(atty, lse_.data() + size_t(l) * NH * N, qkv, {B, T, NH, NKV, hd}, site(l, 0));
    ops_->matmul_nt_forward(attproj_.data(), atty, params + w.o_proj, N, C, C);
    ops_->residual_forward(res2, x, attproj_.data(), NC);
    ops_->rmsnorm_forward(ln2, rstd2_.data() + size_t(l) * N, res2, params + w.ln_2, N, C, eps);
    ops_->matmul_nt_forward(gate_up, ln2, params + w.gate_up, N, C, 2 * F);
    ops_->swiglu_forward(act_.data(), gate_up, N, F);
    ops_->matmul_nt_forward(mlp_out_.data(), act_.data(), params + w.down, N, F, C);
    ops_->residual_forward(res3, res2, mlp_out_.data(), NC);
  }

  ops_->rmsnorm_forward(lnf_.data(), rstdf_.data(), res3_.data() + (L - 1) * NC, params + norm_, N, C, eps);
  ops_->matmul_nt_forward(logits_.data(), lnf_.data(), params + head_, N, C, Vp);
  if (!targets) return 0.0;
  for (int i = 0; i < N; ++i)
    CAIRN_CHECK(targets[i] >= 0 && targets[i] < V, "[llama] target id ", targets[i], " outside vocabulary of ", V);
  targets_.upload(targets, N);
  ops_->crossentropy_forward_backward(losses_.data(), nullptr, logits_.data(), targets_.data(), N, V, Vp, 0.0f);
  losses_.download(host_losses_.data(), N);
  double sum = 0;
  for (int i = 0; i < N; ++i) sum += host_losses_[i];
  return sum / N;
}

void Llama::backward(const float* params, float* grads, float loss_scale) {
  CAIRN_CHECK(have_targets_, "[llama] backward() needs a forward() with targets");
  const int B = B_, T = T_, C = cfg_.n_embd, NH = cfg_.n_head, NKV = cfg_.n_kv_head, hd = cfg_.head_dim();
  const int V = cfg_.vocab_size, Vp = cfg_.padded_vocab(), L = cfg_.n_layer, N = B * T, W = cfg_.qkv_width();
  const int F = cfg_.ffn_dim;
  const size_t NC = size_t(N) * C;

  ops_->crossentropy_forward_backward(losses_.data(), logits_.data(), logits_.data(), targets_.data(), N, V, Vp,
                                     loss_scale / float(N));
  d_a_.zero();
  ops_->matmul_nt_backward(d_a_.data(), grads + head_, logits_.data(), lnf_.data(), params + head_, N, C, Vp);
  d_res_.zero();
  ops_->rmsnorm_backward(d_res_.data(), grads + norm_, d_a_.data(), res3_.data() + (L - 1) * NC, params + norm_,
                        rstdf_.data(), N, C);

  // d_res_ carries the gradient of the residual stream down through the layers.
  for (int l = L - 1; l >= 0; --l) {
    const LayerParams& w = layers_[l];
    const float* x = l == 0 ? encoded_.data() : res3_.data() + (l - 1) * NC;
    const float* ln1 = ln1_.data() + l * NC;
    const float* qkv = qkv_.data() + size_t(l) * N * W;
    const float* atty = atty_.data() + l * NC;
    const float* res2 = res2_.data() + l * NC;
    const float* ln2 = ln2_.data() + l * NC;
    const float* gate_up = gate_up_.data() + size_t(l) * N * 2 * F;

    // res3 = res2 + down(swiglu(gate_up(rmsnorm(res2))))
    ops_->swiglu_forward(act_.data(), gate_up, N, F);  // recomputed: one layer's act is kept
    d_act_.zero();
    ops_->matmul_nt_backward(d_act_.data(), grads + w.down, d_res_.data(), act_.data(), params + w.down, N, F, C);
    d_gate_up_.zero();
    ops_->swiglu_backward(d_gate_up_.data(), d_act_.data(), gate_up, N, F);
    d_a_.zero();
    ops_->matmul_nt_backward(d_a_.data(), grads + w.gate_up, d_gate_up_.data(), ln2, params + w.gate_up, N, C,
                            2 * F);
    ops_->rmsnorm_backward(d_res_.data(), grads + w.ln_2, d_a_.data(), res2, params + w.ln_2,
                          rstd2_.data() + size_t(l) * N, N, C);

    // res2 = x + o_proj(attention(rope(qkv(rmsnorm(x)))))
    d_a_.zero();
    ops_->matmul_nt_backward(d_a_.data(), grads + w.o_proj, d_res_.data(), atty, params + w.o_proj, N, C, C);
    d_qkv_.zero();
    ops_->attention_lse_backward(d_qkv_.data(), d_a_.data(), qkv, lse_.data() + size_t(l) * NH * N,
                                 {B, T, NH, NKV, hd}, site(l, 0));
    ops_->rope_backward(d_qkv_.data(), d_qkv_.data(), rope_cos_.data(), rope_sin_.data(), B, T, NH + NKV, hd, W);
    d_a_.zero();
    ops_->matmul_nt_backward(d_a_.data(), grads + w.qkv, d_qkv_.data(), ln1, params + w.qkv, N, C, W);
    ops_->rmsnorm_backward(d_res_.data(), grads + w.ln_1, d_a_.data(), x, params + w.ln_1,
                          rstd1_.data() + size_t(l) * N, N, C);
  }
  ops_->encoder_backward(grads + embed_, zero_pos_grad_.data(), d_res_.data(), tokens_.data(), B, T, C);
}

const float* Llama::logits() {
  host_logits_.resize(logits_.size());
  logits_.download(host_logits_.data(), logits_.size());
  return host_logits_.data();
}

template <class Buffer>
constexpr size_t element_bytes(Buffer Llama::*) {
  return sizeof(*std::declval<Buffer&>().data());
}

size_t activation_bytes_for(const LlamaConfig& cfg, int B, int T) {
  size_t total = 0;
  Llama::for_each_activation(cfg, B, T, [&](auto member, size_t n) { total += n * element_bytes(member); });
  return total;
}

size_t Llama::activation_bytes() const {
  size_t total = 0;
  for_each_activation(cfg_, B_, T_, [&](auto member, size_t) { total += (this->*member).bytes(); });
  return total;
}

}  // namespace cairn::llama

// models/gpt/gpt.cpp — GPT-2 forward and backward for one micro-batch, through kernels/.
//
// Activation shapes (N = B*T, L = n_layer, per-layer buffers stacked along a leading L):
//   encoded [N,C]            embeddings after dropout
//   ln1, ln2 [L,N,C]         LayerNorm outputs; *_stats [L,2N] = mean then rstd
//   qkv [L,N,3C]  att [L,B,NH,T,T]  atty [L,N,C]
//   res2 [L,N,C] = x + drop(attproj)        res3 [L,N,C] = res2 + drop(fcproj)
//   fch [L,N,4C]
//   attproj, fcproj [N,C] and fch_gelu [N,4C] are one layer's worth: backward needs neither
//   projection output, and recomputes gelu(fch) of the layer it is at (the same bits; a
//   tanh per element instead of L*N*4C stored floats, ~300 MB at 124M, B=8, T=256)
//   lnf [N,C], lnf_stats [2N], logits [N,Vp] (overwritten by dlogits in backward), losses [N]
// Every kernel goes through the KernelOps table (ops_), so this one file is the model on the
// CPU and on the GPU; only the per-row losses come back to the host to be summed (double).
#include "models/gpt/gpt.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include "core/error.h"

namespace cairn::gpt {

template <class F>
void GPT::for_each_activation(const GPTConfig& cfg, int B, int T, F&& f) {
  const size_t L = cfg.n_layer, N = size_t(B) * T, C = cfg.n_embd, NH = cfg.n_head;
  f(&GPT::encoded_, N * C);
  f(&GPT::ln1_, L * N * C);
  f(&GPT::ln1_stats_, L * 2 * N);
  f(&GPT::qkv_, L * N * 3 * C);
  f(&GPT::att_, L * size_t(attention_saved_floats(mha_shape(B, T, int(C), int(NH)))));
  f(&GPT::atty_, L * N * C);
  f(&GPT::attproj_, N * C);
  f(&GPT::res2_, L * N * C);
  f(&GPT::ln2_, L * N * C);
  f(&GPT::ln2_stats_, L * 2 * N);
  f(&GPT::fch_, L * N * 4 * C);
  f(&GPT::fch_gelu_, N * 4 * C);
  f(&GPT::fcproj_, N * C);
  f(&GPT::res3_, L * N * C);
  f(&GPT::lnf_, N * C);
  f(&GPT::lnf_stats_, 2 * N);
  f(&GPT::logits_, N * size_t(cfg.padded_vocab()));
  f(&GPT::losses_, N);
  f(&GPT::d_res_, N * C);
  f(&GPT::d_a_, N * C);
  f(&GPT::d_b_, N * C);
  f(&GPT::d_qkv_, N * 3 * C);
  f(&GPT::d_fch_, 2 * N * 4 * C);
  f(&GPT::drop_scratch_, N * C);
  f(&GPT::tokens_, N);
  f(&GPT::targets_, N);
}

GPT::GPT(const GPTConfig& cfg, int B, int T, const KernelOps& ops)
    : cfg_(cfg), layout_(build_layout(cfg)), ops_(&ops), B_(B), T_(T) {
  CAIRN_CHECK(T >= 1 && T <= cfg.seq_len, "[gpt] sequence length ", T, " outside [1, ", cfg.seq_len, "]");
  CAIRN_CHECK(cfg.n_embd % cfg.n_head == 0, "[gpt] n_embd ", cfg.n_embd, " not divisible by n_head ", cfg.n_head);
  for_each_activation(cfg, B, T, [&](auto member, size_t n) {
    auto& buffer = this->*member;
    buffer = std::remove_reference_t<decltype(buffer)>(ops, n);
  });
  const size_t N = size_t(B) * T;
  host_losses_.resize(N);

  auto at = [&](const std::string& name) { return layout_.find(name).offset; };
  wte_ = at("wte.weight");
  wpe_ = at("wpe.weight");
  ln_f_w_ = at("ln_f.weight");
  ln_f_b_ = at("ln_f.bias");
  for (int l = 0; l < cfg.n_layer; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    layers_.push_back({at(h + "ln_1.weight"), at(h + "ln_1.bias"), at(h + "attn.c_attn.weight"),
                       at(h + "attn.c_attn.bias"), at(h + "attn.c_proj.weight"), at(h + "attn.c_proj.bias"),
                       at(h + "ln_2.weight"), at(h + "ln_2.bias"), at(h + "mlp.c_fc.weight"), at(h + "mlp.c_fc.bias"),
                       at(h + "mlp.c_proj.weight"), at(h + "mlp.c_proj.bias")});
  }
}

DropoutSite GPT::site(int layer, int which) const {
  DropoutSite s;
  s.p = drop_.training ? cfg_.dropout : 0.0f;
  s.seed = drop_.seed;
  s.step = drop_.step;
  s.micro_batch = drop_.micro_batch;
  s.site = uint32_t(layer) * 8u + uint32_t(which);
  return s;
}

double GPT::forward(const float* params, const int32_t* tokens, const int32_t* targets,
                    const DropoutContext& drop) {
  const int B = B_, T = T_, C = cfg_.n_embd, NH = cfg_.n_head, V = cfg_.vocab_size, Vp = cfg_.padded_vocab();
  const int L = cfg_.n_layer, N = B * T;
  const size_t NC = size_t(N) * C;
  for (int i = 0; i < N; ++i)
    CAIRN_CHECK(tokens[i] >= 0 && tokens[i] < V, "[gpt] token id ", tokens[i], " outside vocabulary of ", V);
  tokens_.upload(tokens, N);
  have_targets_ = targets != nullptr;
  drop_ = drop;
  const DropoutSite embd_drop = site(L, 0);
  if (embd_drop.p > 0) {
    ops_->encoder_forward(drop_scratch_.data(), tokens_.data(), params + wte_, params + wpe_, B, T, C);
    ops_->dropout_forward(encoded_.data(), drop_scratch_.data(), NC, embd_drop);
  } else {
    ops_->encoder_forward(encoded_.data(), tokens_.data(), params + wte_, params + wpe_, B, T, C);
  }

  for (int l = 0; l < L; ++l) {
    const LayerParams& w = layers_[l];
    const float* x = l == 0 ? encoded_.data() : res3_.data() + (l - 1) * NC;
    float* ln1 = ln1_.data() + l * NC;
    float* ln1_stats = ln1_stats_.data() + size_t(l) * 2 * N;
    float* qkv = qkv_.data() + l * 3 * NC;
    float* att = att_.data() + size_t(l) * attention_saved_floats(mha_shape(B, T, C, NH));
    float* atty = atty_.data() + l * NC;
    float* attproj = attproj_.data();
    float* res2 = res2_.data() + l * NC;
    float* ln2 = ln2_.data() + l * NC;
    float* ln2_stats = ln2_stats_.data() + size_t(l) * 2 * N;
    float* fch = fch_.data() + l * 4 * NC;
    float* fch_gelu = fch_gelu_.data();
    float* fcproj = fcproj_.data();
    float* res3 = res3_.data() + l * NC;

    ops_->layernorm_forward(ln1, ln1_stats, ln1_stats + N, x, params + w.ln_1_w, params + w.ln_1_b, N, C);
    ops_->matmul_forward(qkv, ln1, params + w.c_attn_w, params + w.c_attn_b, N, C, 3 * C);
    ops_->attention_forward(atty, att, qkv, mha_shape(B, T, C, NH), site(l, 0));
    ops_->matmul_forward(attproj, atty, params + w.attn_proj_w, params + w.attn_proj_b, N, C, C);
    const DropoutSite d1 = site(l, 1);
    if (d1.p > 0) {
      ops_->dropout_forward(drop_scratch_.data(), attproj, NC, d1);
      ops_->residual_forward(res2, x, drop_scratch_.data(), NC);
    } else {
      ops_->residual_forward(res2, x, attproj, NC);
    }
    ops_->layernorm_forward(ln2, ln2_stats, ln2_stats + N, res2, params + w.ln_2_w, params + w.ln_2_b, N, C);
    ops_->matmul_forward(fch, ln2, params + w.c_fc_w, params + w.c_fc_b, N, C, 4 * C);
    ops_->gelu_forward(fch_gelu, fch, 4 * NC);
    ops_->matmul_forward(fcproj, fch_gelu, params + w.mlp_proj_w, params + w.mlp_proj_b, N, 4 * C, C);
    const DropoutSite d2 = site(l, 2);
    if (d2.p > 0) {
      ops_->dropout_forward(drop_scratch_.data(), fcproj, NC, d2);
      ops_->residual_forward(res3, res2, drop_scratch_.data(), NC);
    } else {
      ops_->residual_forward(res3, res2, fcproj, NC);
    }
  }

  const float* last = res3_.data() + (L - 1) * NC;
  ops_->layernorm_forward(lnf_.data(), lnf_stats_.data(), lnf_stats_.data() + N, last, params + ln_f_w_,
                         params + ln_f_b_, N, C);
  ops_->matmul_nt_forward(logits_.data(), lnf_.data(), params + wte_, N, C, Vp);
  if (!targets) return 0.0;
  for (int i = 0; i < N; ++i)
    CAIRN_CHECK(targets[i] >= 0 && targets[i] < V, "[gpt] target id ", targets[i], " outside vocabulary of ", V);
  targets_.upload(targets, N);
  ops_->crossentropy_forward_backward(losses_.data(), nullptr, logits_.data(), targets_.data(), N, V, Vp, 0.0f);
  losses_.download(host_losses_.data(), N);
  double sum = 0;
  for (int i = 0; i < N; ++i) sum += host_losses_[i];
  return sum / N;
}

void GPT::backward(const float* params, float* grads, float loss_scale) {
  CAIRN_CHECK(have_targets_, "[gpt] backward() needs a forward() with targets");
  const int B = B_, T = T_, C = cfg_.n_embd, NH = cfg_.n_head, V = cfg_.vocab_size, Vp = cfg_.padded_vocab();
  const int L = cfg_.n_layer, N = B * T;
  const size_t NC = size_t(N) * C;

  // Loss head: dlogits (in place of logits), tied LM head, final LayerNorm.
  ops_->crossentropy_forward_backward(losses_.data(), logits_.data(), logits_.data(), targets_.data(), N, V, Vp,
                                     loss_scale / float(N));
  d_a_.zero();
  ops_->matmul_nt_backward(d_a_.data(), grads + wte_, logits_.data(), lnf_.data(), params + wte_, N, C, Vp);
  d_res_.zero();
  ops_->layernorm_backward(d_res_.data(), grads + ln_f_w_, grads + ln_f_b_, d_a_.data(), res3_.data() + (L - 1) * NC,
                          params + ln_f_w_, lnf_stats_.data(), lnf_stats_.data() + N, N, C);

  // d_res_ carries the gradient of the residual stream down through the layers.
  float* d_gelu = d_fch_.data();
  float* d_fch = d_fch_.data() + 4 * NC;
  for (int l = L - 1; l >= 0; --l) {
    const LayerParams& w = layers_[l];
    const float* x = l == 0 ? encoded_.data() : res3_.data() + (l - 1) * NC;
    const float* ln1 = ln1_.data() + l * NC;
    const float* ln1_stats = ln1_stats_.data() + size_t(l) * 2 * N;
    const float* qkv = qkv_.data() + l * 3 * NC;
    const float* att = att_.data() + size_t(l) * attention_saved_floats(mha_shape(B, T, C, NH));
    const float* atty = atty_.data() + l * NC;
    const float* res2 = res2_.data() + l * NC;
    const float* ln2 = ln2_.data() + l * NC;
    const float* ln2_stats = ln2_stats_.data() + size_t(l) * 2 * N;
    const float* fch = fch_.data() + l * 4 * NC;
    float* fch_gelu = fch_gelu_.data();

    // res3 = res2 + drop(fcproj)
    const float* d_fcproj = d_res_.data();
    const DropoutSite d2 = site(l, 2);
    if (d2.p > 0) {
      d_b_.zero();
      ops_->dropout_backward(d_b_.data(), d_res_.data(), NC, d2);
      d_fcproj = d_b_.data();
    }
    d_fch_.zero();
    ops_->gelu_forward(fch_gelu, fch, 4 * NC);  // recomputed: only one layer's gelu(fch) is kept
    ops_->matmul_backward(d_gelu, grads + w.mlp_proj_w, grads + w.mlp_proj_b, d_fcproj, fch_gelu,
                         params + w.mlp_proj_w, N, 4 * C, C);
    ops_->gelu_backward(d_fch, fch, d_gelu, 4 * NC);
    d_a_.zero();
    ops_->matmul_backward(d_a_.data(), grads + w.c_fc_w, grads + w.c_fc_b, d_fch, ln2,
                         params + w.c_fc_w, N, C, 4 * C);
    ops_->layernorm_backward(d_res_.data(), grads + w.ln_2_w, grads + w.ln_2_b, d_a_.data(), res2,
                            params + w.ln_2_w, ln2_stats, ln2_stats + N, N, C);

    // res2 = x + drop(attproj)
    const float* d_attproj = d_res_.data();
    const DropoutSite d1 = site(l, 1);
    if (d1.p > 0) {
      d_b_.zero();
      ops_->dropout_backward(d_b_.data(), d_res_.data(), NC, d1);
      d_attproj = d_b_.data();
    }
    d_a_.zero();
    ops_->matmul_backward(d_a_.data(), grads + w.attn_proj_w, grads + w.attn_proj_b, d_attproj, atty,
                         params + w.attn_proj_w, N, C, C);
    d_qkv_.zero();
    ops_->attention_backward(d_qkv_.data(), d_a_.data(), qkv, att, mha_shape(B, T, C, NH), site(l, 0));
    d_a_.zero();
    ops_->matmul_backward(d_a_.data(), grads + w.c_attn_w, grads + w.c_attn_b, d_qkv_.data(), ln1,
                         params + w.c_attn_w, N, C, 3 * C);
    ops_->layernorm_backward(d_res_.data(), grads + w.ln_1_w, grads + w.ln_1_b, d_a_.data(), x,
                            params + w.ln_1_w, ln1_stats, ln1_stats + N, N, C);
  }

  const float* d_embed = d_res_.data();
  const DropoutSite embd_drop = site(L, 0);
  if (embd_drop.p > 0) {
    d_b_.zero();
    ops_->dropout_backward(d_b_.data(), d_res_.data(), NC, embd_drop);
    d_embed = d_b_.data();
  }
  ops_->encoder_backward(grads + wte_, grads + wpe_, d_embed, tokens_.data(), B, T, C);
}

const float* GPT::logits() {
  host_logits_.resize(logits_.size());
  logits_.download(host_logits_.data(), logits_.size());
  return host_logits_.data();
}

// Element size of the buffer a GPT member pointer names.
template <class Buffer>
constexpr size_t element_bytes(Buffer GPT::*) {
  return sizeof(*std::declval<Buffer&>().data());
}

size_t activation_bytes_for(const GPTConfig& cfg, int B, int T) {
  size_t total = 0;
  GPT::for_each_activation(cfg, B, T, [&](auto member, size_t n) { total += n * element_bytes(member); });
  return total;
}

size_t GPT::activation_bytes() const {
  size_t total = 0;
  for_each_activation(cfg_, B_, T_, [&](auto member, size_t) { total += (this->*member).bytes(); });
  return total;
}

}  // namespace cairn::gpt

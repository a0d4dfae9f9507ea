// tests/kernels/op_cases.cpp — the op test registry's cases (op_registry.h), every op of the
// op list on odd and prime shapes so no tile, block or vector width divides them.
//
// Match::kBitwise where the CUDA kernel promises the CPU's bits (kernels/cuda/kernels_cuda.h:
// the encoder, dropout masks, residual, add_inplace, sumsq_chunks), otherwise the fp32
// tolerances of tests/tolerance.h, forward and backward apart. Inputs that come from another
// op (LayerNorm's mean/rstd, attention's att) are computed here with the CPU kernel. Ops
// with a float64 reference here are also checked against it on the CPU; every op has its
// own float64 / finite-difference tests in tests/kernels/test_<op>.cpp besides.
#include <algorithm>
#include <cmath>

#include "kernel_test_util.h"
#include "op_case_helpers.h"
#include "op_registry.h"

namespace cairn::test {
namespace {

void embedding(std::vector<OpCase>& cases) {
  {
    const int B = 3, T = 37, C = 53, Vp = 67;
    OpCase c{"encoder_forward", dims({{"B", B}, {"T", T}, {"C", C}, {"Vp", Vp}})};
    c.tensors = {in("tokens", tokens(B * T, Vp, 1), Elem::kI32), in("wte", rnd(Vp * C, 2)),
                 in("wpe", rnd((T + 3) * C, 3)), out("out", int64_t(B) * T * C, kBits)};
    c.call = [=](const KernelOps& o, const OpArgs& a) { o.encoder_forward(a.f(3), a.i32(0), a.f(1), a.f(2), B, T, C); };
    c.reference = [=](const std::vector<OpTensor>& t) {
      std::vector<double> want(size_t(B) * T * C);
      for (int n = 0; n < B * T; ++n)
        for (int k = 0; k < C; ++k)
          want[size_t(n) * C + k] = double(float(t[1].init[size_t(t[0].init[n]) * C + k] + t[2].init[size_t(n % T) * C + k]));
      return want;
    };
    c.reference_index = 3;
    cases.push_back(c);
  }
  // Few distinct tokens (every dwte row gets many contributions: what float atomics would
  // make order dependent), and GPT-2's padded vocabulary (most rows must stay untouched).
  for (auto [B, T, C, Vp, V] : {std::tuple{5, 41, 131, 7, 7}, std::tuple{2, 67, 96, 50304, 50257}}) {
    OpCase c{"encoder_backward", dims({{"B", B}, {"T", T}, {"C", C}, {"Vp", Vp}})};
    c.tensors = {acc("dwte", rnd(int64_t(Vp) * C, 6), kBits), acc("dwpe", rnd(T * C, 7), kBits),
                 in("dout", rnd(int64_t(B) * T * C, 5)), in("tokens", tokens(B * T, V, 4), Elem::kI32)};
    c.call = [=](const KernelOps& o, const OpArgs& a) { o.encoder_backward(a.f(0), a.f(1), a.f(2), a.i32(3), B, T, C); };
    cases.push_back(c);
  }
}

void layernorm(std::vector<OpCase>& cases) {
  for (auto [N, C] : {std::pair{97, 61}, std::pair{131, 768}, std::pair{3, 1031}}) {
    OpCase c{"layernorm_forward", dims({{"N", N}, {"C", C}})};
    c.tensors = {out("out", int64_t(N) * C, kFwd), out("mean", N, kFwd), out("rstd", N, kFwd),
                 in("inp", rnd(int64_t(N) * C, 1, -3.0f, 5.0f)), in("weight", rnd(C, 2)), in("bias", rnd(C, 3))};
    c.call = [=](const KernelOps& o, const OpArgs& a) {
      o.layernorm_forward(a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.f(5), N, C);
    };
    cases.push_back(c);
  }
  const int N = 211, C = 101;  // N spans several 64-row column chunks, ragged
  const auto x = rnd(int64_t(N) * C, 4, -2.0f, 2.0f), w = rnd(C, 6), b = rnd(C, 7);
  std::vector<float> y(size_t(N) * C), mean(N), rstd(N);
  cpu::layernorm_forward(y.data(), mean.data(), rstd.data(), as_f32(x).data(), as_f32(w).data(), as_f32(b).data(), N,
                         C);
  OpCase c{"layernorm_backward", dims({{"N", N}, {"C", C}})};
  c.tensors = {acc("dinp", rnd(int64_t(N) * C, 8), kBwd), acc("dweight", rnd(C, 9), kBwd),
               acc("dbias", rnd(C, 10), kBwd), in("dout", rnd(int64_t(N) * C, 5)), in("inp", x), in("weight", w),
               in("mean", as_f64(mean)), in("rstd", as_f64(rstd))};
  c.call = [=](const KernelOps& o, const OpArgs& a) {
    o.layernorm_backward(a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.f(5), a.f(6), a.f(7), N, C);
  };
  cases.push_back(c);
}

void matmul(std::vector<OpCase>& cases) {
  const int N = 113, IC = 67, OC = 157;
  for (bool bias : {true, false}) {
    const char* tag = bias ? "bias" : "nobias";
    OpCase f{"matmul_forward", dims({{"N", N}, {"IC", IC}, {"OC", OC}}) + " " + tag};
    // The product's rounding grows with IC: the backward element-wise bound, forward L2.
    f.tensors = {out("out", int64_t(N) * OC, kFwd, Elem::kF32, kFp32Backward), in("inp", rnd(int64_t(N) * IC, 1)),
                 in("weight", rnd(int64_t(IC) * OC, 2)), in("bias", rnd(OC, 3))};
    f.call = [=](const KernelOps& o, const OpArgs& a) {
      o.matmul_forward(a.f(0), a.f(1), a.f(2), bias ? a.f(3) : nullptr, N, IC, OC);
    };
    cases.push_back(f);
    OpCase b{"matmul_backward", f.shape};
    b.tensors = {acc("dinp", rnd(int64_t(N) * IC, 5), kBwd), acc("dweight", rnd(int64_t(IC) * OC, 6), kBwd),
                 acc("dbias", rnd(OC, 7), kBwd), in("dout", rnd(int64_t(N) * OC, 4)),
                 in("inp", rnd(int64_t(N) * IC, 1)), in("weight", rnd(int64_t(IC) * OC, 2))};
    b.call = [=](const KernelOps& o, const OpArgs& a) {
      o.matmul_backward(a.f(0), a.f(1), bias ? a.f(2) : nullptr, a.f(3), a.f(4), a.f(5), N, IC, OC);
    };
    cases.push_back(b);
  }
  {  // no dinp (the first layer's input needs no gradient)
    const int n = 97, ic = 31, oc = 43;
    OpCase b{"matmul_backward", dims({{"N", n}, {"IC", ic}, {"OC", oc}}) + " nodinp"};
    b.tensors = {acc("dweight", rnd(int64_t(ic) * oc, 16), kBwd), acc("dbias", rnd(oc, 17), kBwd),
                 in("dout", rnd(int64_t(n) * oc, 15)), in("inp", rnd(int64_t(n) * ic, 13)),
                 in("weight", rnd(int64_t(ic) * oc, 14))};
    b.call = [=](const KernelOps& o, const OpArgs& a) {
      o.matmul_backward(nullptr, a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), n, ic, oc);
    };
    cases.push_back(b);
  }
  const int n = 71, ic = 53, oc = 320;  // oc: a padded vocabulary
  OpCase f{"matmul_nt_forward", dims({{"N", n}, {"IC", ic}, {"OC", oc}})};
  f.tensors = {out("out", int64_t(n) * oc, kFwd, Elem::kF32, kFp32Backward), in("inp", rnd(int64_t(n) * ic, 8)),
               in("weight", rnd(int64_t(oc) * ic, 9))};
  f.call = [=](const KernelOps& o, const OpArgs& a) { o.matmul_nt_forward(a.f(0), a.f(1), a.f(2), n, ic, oc); };
  cases.push_back(f);
  OpCase b{"matmul_nt_backward", f.shape};
  b.tensors = {acc("dinp", rnd(int64_t(n) * ic, 11), kBwd), acc("dweight", rnd(int64_t(oc) * ic, 12), kBwd),
               in("dout", rnd(int64_t(n) * oc, 10)), in("inp", rnd(int64_t(n) * ic, 8)),
               in("weight", rnd(int64_t(oc) * ic, 9))};
  b.call = [=](const KernelOps& o, const OpArgs& a) {
    o.matmul_nt_backward(a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), n, ic, oc);
  };
  cases.push_back(b);
}

void attention(std::vector<OpCase>& cases) {
  struct Dims { int B, T, C, NH; float p; };
  for (const Dims& k : {Dims{2, 37, 51, 3, 0.0f}, Dims{3, 67, 48, 4, 0.0f}, Dims{2, 37, 51, 3, 0.2f},
                        Dims{1, 130, 64, 2, 0.1f}, Dims{2, 45, 36, 3, 0.1f}}) {
    const int B = k.B, T = k.T, C = k.C, NH = k.NH;
    const int64_t n_qkv = int64_t(B) * T * 3 * C, n_out = int64_t(B) * T * C, n_att = int64_t(B) * NH * T * T;
    const DropoutSite drop{k.p, 77, 5, 1, 9};
    const std::string shape = dims({{"B", B}, {"T", T}, {"C", C}, {"NH", NH}, {"p", k.p}});
    const auto qkv = rnd(n_qkv, 1, -2.0f, 2.0f);
    OpCase f{"attention_forward", shape};
    f.tensors = {out("out", n_out, kFwd, Elem::kF32, kFp32Backward), out("att", n_att, kFwd), in("qkv", qkv)};
    f.call = [=](const KernelOps& o, const OpArgs& a) {
      o.attention_forward(a.f(0), a.f(1), a.f(2), mha_shape(B, T, C, NH), drop);
    };
    cases.push_back(f);
    std::vector<float> y(static_cast<size_t>(n_out)), att(static_cast<size_t>(n_att));
    cpu::attention_forward(y.data(), att.data(), as_f32(qkv).data(), mha_shape(B, T, C, NH), drop);
    OpCase b{"attention_backward", shape};
    b.tensors = {acc("dqkv", rnd(n_qkv, 3), kBwd), in("dout", rnd(n_out, 2)), in("qkv", qkv), in("att", as_f64(att))};
    b.call = [=](const KernelOps& o, const OpArgs& a) {
      o.attention_backward(a.f(0), a.f(1), a.f(2), a.f(3), mha_shape(B, T, C, NH), drop);
    };
    cases.push_back(b);
  }
}

// Grouped kv heads (GQA): 6 query heads over 2 kv heads of size 7, with a float64 reference
// for the forward. The CUDA kernel does not implement them yet (cuda = false).
void grouped_attention(std::vector<OpCase>& cases) {
  const AttentionShape s{2, 37, 6, 2, 7};
  const int64_t n_qkv = s.B * s.T * s.qkv_width(), n_out = s.B * s.T * s.q_width();
  const int64_t n_saved = attention_saved_floats(s);
  const DropoutSite drop{0.0f, 77, 5, 1, 9};
  const std::string shape = dims({{"B", s.B}, {"T", s.T}, {"NH", s.n_head}, {"NKV", s.n_kv_head}, {"hs", s.head_size}});
  const auto qkv = rnd(n_qkv, 21, -2.0f, 2.0f);
  OpCase f{"attention_forward", shape};
  f.cuda = false;
  f.tensors = {out("out", n_out, kFwd, Elem::kF32, kFp32Backward), out("saved", n_saved, kFwd), in("qkv", qkv)};
  f.call = [=](const KernelOps& o, const OpArgs& a) { o.attention_forward(a.f(0), a.f(1), a.f(2), s, drop); };
  f.reference = [=](const std::vector<OpTensor>& t) {
    const std::vector<double>& x = t[2].init;
    const int64_t W = s.qkv_width(), hs = s.head_size, group = s.n_head / s.n_kv_head;
    std::vector<double> want(static_cast<size_t>(n_out));
    for (int64_t b = 0; b < s.B; ++b)
      for (int64_t h = 0; h < s.n_head; ++h)
        for (int64_t i = 0; i < s.T; ++i) {
          const int64_t kv = h / group;
          const double* q = &x[size_t((b * s.T + i) * W + h * hs)];
          std::vector<double> p(size_t(i + 1));
          double mx = -1e300, sum = 0;
          for (int64_t j = 0; j <= i; ++j) {
            const double* k = &x[size_t((b * s.T + j) * W + (s.n_head + kv) * hs)];
            double dot = 0;
            for (int64_t d = 0; d < hs; ++d) dot += q[d] * k[d];
            p[size_t(j)] = dot / std::sqrt(double(hs));
            mx = std::max(mx, p[size_t(j)]);
          }
          for (double& v : p) sum += (v = std::exp(v - mx));
          for (int64_t d = 0; d < hs; ++d) {
            double acc = 0;
            for (int64_t j = 0; j <= i; ++j)
              acc += p[size_t(j)] / sum * x[size_t((b * s.T + j) * W + (s.n_head + s.n_kv_head + kv) * hs + d)];
            want[size_t((b * s.T + i) * s.q_width() + h * hs + d)] = acc;
          }
        }
    return want;
  };
  cases.push_back(f);
  std::vector<float> y(static_cast<size_t>(n_out)), saved(static_cast<size_t>(n_saved));
  cpu::attention_forward(y.data(), saved.data(), as_f32(qkv).data(), s, drop);
  OpCase b{"attention_backward", shape};
  b.cuda = false;
  b.tensors = {acc("dqkv", rnd(n_qkv, 23), kBwd), in("dout", rnd(n_out, 22)), in("qkv", qkv),
               in("saved", as_f64(saved))};
  b.call = [=](const KernelOps& o, const OpArgs& a) { o.attention_backward(a.f(0), a.f(1), a.f(2), a.f(3), s, drop); };
  cases.push_back(b);
}

double gelu64(double x) {
  const double c = std::sqrt(2.0 / M_PI);
  return 0.5 * x * (1.0 + std::tanh(c * (x + 0.044715 * x * x * x)));
}

void elementwise(std::vector<OpCase>& cases) {
  const int64_t n = 100003;  // prime: no block or group-of-4 boundary divides it
  {
    OpCase c{"gelu_forward", dims({{"n", double(n)}})};
    c.tensors = {out("out", n, kFwd), in("inp", rnd(n, 1, -4.0f, 4.0f))};
    c.call = [=](const KernelOps& o, const OpArgs& a) { o.gelu_forward(a.f(0), a.f(1), n); };
    c.reference = [](const std::vector<OpTensor>& t) {
      std::vector<double> want(t[1].init.size());
      for (size_t i = 0; i < want.size(); ++i) want[i] = gelu64(t[1].init[i]);
      return want;
    };
    cases.push_back(c);
    OpCase b{"gelu_backward", c.shape};
    b.tensors = {acc("dinp", rnd(n, 3), kBwd), in("inp", rnd(n, 1, -4.0f, 4.0f)), in("dout", rnd(n, 2))};
    b.call = [=](const KernelOps& o, const OpArgs& a) { o.gelu_backward(a.f(0), a.f(1), a.f(2), n); };
    cases.push_back(b);
  }
  {
    OpCase c{"residual_forward", dims({{"n", double(n)}})};
    c.tensors = {out("out", n, kBits), in("a", rnd(n, 4)), in("b", rnd(n, 5))};
    c.call = [=](const KernelOps& o, const OpArgs& a) { o.residual_forward(a.f(0), a.f(1), a.f(2), n); };
    c.reference = [](const std::vector<OpTensor>& t) {
      std::vector<double> want(t[1].init.size());
      for (size_t i = 0; i < want.size(); ++i) want[i] = t[1].init[i] + t[2].init[i];
      return want;
    };
    cases.push_back(c);
  }
  // The dropout contract: the CUDA mask is the CPU mask, element for element.
  for (float p : {0.0f, 0.1f, 0.5f}) {
    const DropoutSite drop{p, 0x1234567890abcdefull, 17, 3, 42};
    OpCase f{"dropout_forward", dims({{"n", double(n)}, {"p", p}})};
    f.tensors = {out("out", n, kBits), in("inp", rnd(n, 6))};
    f.call = [=](const KernelOps& o, const OpArgs& a) { o.dropout_forward(a.f(0), a.f(1), n, drop); };
    if (p == 0.0f) {
      f.reference = [](const std::vector<OpTensor>& t) { return t[1].init; };
    }
    cases.push_back(f);
    OpCase b{"dropout_backward", f.shape};
    b.tensors = {acc("dinp", rnd(n, 7), kBits), in("dout", rnd(n, 6))};
    b.call = [=](const KernelOps& o, const OpArgs& a) { o.dropout_backward(a.f(0), a.f(1), n, drop); };
    cases.push_back(b);
  }
  {  // in place, at a site, step and micro-batch other than the first, on a length that ends
     // mid-group: the last partial Philox group must still match
    const int64_t m = 4 * 1001 + 3;
    const DropoutSite drop{0.3f, 99, 123456, 7, 8 * 11 + 2};
    OpCase c{"dropout_forward", dims({{"n", double(m)}, {"p", 0.3}}) + " inplace"};
    c.tensors = {acc("x", rnd(m, 8), kBits)};
    c.call = [=](const KernelOps& o, const OpArgs& a) { o.dropout_forward(a.f(0), a.f(0), m, drop); };
    cases.push_back(c);
  }
  {
    OpCase c{"add_inplace", dims({{"n", double(n)}})};
    c.tensors = {acc("a", rnd(n, 14), kBits), in("b", rnd(n, 15))};
    c.call = [=](const KernelOps& o, const OpArgs& a) { o.add_inplace(a.f(0), a.f(1), n); };
    c.reference = [](const std::vector<OpTensor>& t) {
      std::vector<double> want(t[0].init.size());
      for (size_t i = 0; i < want.size(); ++i) want[i] = t[0].init[i] + t[1].init[i];
      return want;
    };
    cases.push_back(c);
  }
}

void loss_and_optimizer(std::vector<OpCase>& cases) {
  {
    const int N = 53, V = 251, Vp = 256;
    auto logits = rnd(int64_t(N) * Vp, 1, -6.0f, 6.0f);
    for (int n = 0; n < N; ++n)
      for (int j = V; j < Vp; ++j) logits[size_t(n) * Vp + j] = 1e30;  // padding must be ignored
    const auto targets = tokens(N, V, 2);
    const float dloss = 1.0f / N;
    const std::string shape = dims({{"N", N}, {"V", V}, {"Vp", Vp}});
    OpCase l{"crossentropy_forward_backward", shape + " lossonly"};
    l.tensors = {out("losses", N, kFwd), in("logits", logits), in("targets", targets, Elem::kI32)};
    l.call = [=](const KernelOps& o, const OpArgs& a) {
      o.crossentropy_forward_backward(a.f(0), nullptr, a.f(1), a.i32(2), N, V, Vp, 0.0f);
    };
    cases.push_back(l);
    OpCase g{"crossentropy_forward_backward", shape + " inplace"};
    g.tensors = {out("losses", N, kFwd), acc("logits", logits, kBwd), in("targets", targets, Elem::kI32)};
    g.call = [=](const KernelOps& o, const OpArgs& a) {
      o.crossentropy_forward_backward(a.f(0), a.f(1), a.f(1), a.i32(2), N, V, Vp, dloss);
    };
    cases.push_back(g);
  }
  {
    const int64_t n = 40961;
    OpCase c{"adamw_update", dims({{"n", double(n)}})};
    c.tensors = {acc("params", rnd(n, 10), kFwd), in("grads", rnd(n, 9)), acc("m", rnd(n, 11, -0.1f, 0.1f), kFwd),
                 acc("v", rnd(n, 12, 0.0f, 0.01f), kFwd)};
    c.call = [=](const KernelOps& o, const OpArgs& a) {
      o.adamw_update(a.f(0), a.f(1), a.f(2), a.f(3), n, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 7, 0.5f);
    };
    cases.push_back(c);
  }
  // The order is fixed by kernels.h (lanes by index, a fixed combine tree): bitwise on CUDA,
  // also for a chunk length with a ragged lane tail.
  for (int64_t chunk : {int64_t(4096), int64_t(1003)}) {
    const int64_t n_chunks = 13;
    OpCase c{"sumsq_chunks", dims({{"chunks", double(n_chunks)}, {"chunk", double(chunk)}})};
    c.tensors = {out("out", n_chunks, kBits, Elem::kF64, {0, 1e-12}), in("x", rnd(chunk * n_chunks, 13))};
    c.call = [=](const KernelOps& o, const OpArgs& a) { o.sumsq_chunks(a.d(0), a.f(1), n_chunks, chunk); };
    c.reference = [=](const std::vector<OpTensor>& t) {
      std::vector<double> want(static_cast<size_t>(n_chunks));
      for (size_t i = 0; i < t[1].init.size(); ++i) want[i / size_t(chunk)] += t[1].init[i] * t[1].init[i];
      return want;
    };
    cases.push_back(c);
  }
}

}  // namespace

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = [] {
    std::vector<OpCase> c;
    embedding(c);
    layernorm(c);
    matmul(c);
    attention(c);
    grouped_attention(c);
    elementwise(c);
    loss_and_optimizer(c);
    llama_op_cases(c);
    return c;
  }();
  return cases;
}

}  // namespace cairn::test

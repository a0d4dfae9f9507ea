// tests/kernels/op_cases_llama.cpp — the op test registry's cases (op_registry.h) for the
// Llama family's ops: RMSNorm, RoPE (bitwise on CUDA: the same table and operations; in place
// inside a packed qkv, v columns untouched), SwiGLU and attention_lse (GQA and MQA, with and
// without dropout), on odd and prime shapes. Inputs that come from another op (rstd, lse) are
// computed with the CPU kernel. Their float64 and finite-difference tests are
// test_rmsnorm.cpp, test_rope.cpp, test_swiglu.cpp and test_attention_lse.cpp.
#include <cmath>

#include "op_case_helpers.h"

namespace cairn::test {
namespace {

void rmsnorm(std::vector<OpCase>& cases) {
  for (auto [N, C] : {std::pair{37, 211}, std::pair{131, 576}}) {
    const float eps = 1e-5f;
    const auto x = rnd(int64_t(N) * C, 1, -3.0f, 3.0f), w = rnd(C, 2);
    OpCase f{"rmsnorm_forward", dims({{"N", N}, {"C", C}})};
    f.tensors = {out("out", int64_t(N) * C, kFwd), out("rstd", N, kFwd), in("inp", x), in("weight", w)};
    f.call = [=](const KernelOps& o, const OpArgs& a) { o.rmsnorm_forward(a.f(0), a.f(1), a.f(2), a.f(3), N, C, eps); };
    f.reference = [=](const std::vector<OpTensor>& t) {
      std::vector<double> want(size_t(N) * C);
      for (int n = 0; n < N; ++n) {
        double ms = 0;
        for (int c = 0; c < C; ++c) ms += t[2].init[size_t(n) * C + c] * t[2].init[size_t(n) * C + c];
        const double s = 1.0 / std::sqrt(ms / C + eps);
        for (int c = 0; c < C; ++c) want[size_t(n) * C + c] = t[2].init[size_t(n) * C + c] * s * t[3].init[c];
      }
      return want;
    };
    cases.push_back(f);
    std::vector<float> y(size_t(N) * C), rstd(N);
    cpu::rmsnorm_forward(y.data(), rstd.data(), as_f32(x).data(), as_f32(w).data(), N, C, eps);
    OpCase b{"rmsnorm_backward", f.shape};
    b.tensors = {acc("dinp", rnd(int64_t(N) * C, 4), kBwd), acc("dweight", rnd(C, 5), kBwd),
                 in("dout", rnd(int64_t(N) * C, 3)), in("inp", x), in("weight", w), in("rstd", as_f64(rstd))};
    b.call = [=](const KernelOps& o, const OpArgs& a) {
      o.rmsnorm_backward(a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.f(5), N, C);
    };
    cases.push_back(b);
  }
}

// RoPE in float64 from the fp32 table (transpose: R^T), rows of stride ld, H heads rotated.
std::vector<double> rotate(const std::vector<double>& x, const std::vector<float>& cos, const std::vector<float>& sin,
                           int B, int T, int H, int hd, int64_t ld, bool transpose) {
  std::vector<double> y = x;
  const int half = hd / 2;
  for (int64_t n = 0; n < int64_t(B) * T; ++n)
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < half; ++i) {
        const double c = cos[(n % T) * half + i], s = sin[(n % T) * half + i] * (transpose ? -1 : 1);
        const double a = x[n * ld + h * hd + i], b = x[n * ld + h * hd + i + half];
        y[n * ld + h * hd + i] = a * c - b * s;
        y[n * ld + h * hd + i + half] = b * c + a * s;
      }
  return y;
}

void rope(std::vector<OpCase>& cases) {
  // A packed qkv of 5 query + 2 key heads of 6 (rotated) and 2 value heads (not); a dense one.
  struct Dims { int B, T, H, hd; int64_t ld; };
  for (const Dims d : {Dims{3, 37, 7, 6, 9 * 6}, Dims{2, 67, 3, 64, 3 * 64}}) {
    std::vector<float> cos(size_t(d.T) * d.hd / 2), sin(cos.size());
    cpu::rope_table(cos.data(), sin.data(), d.T, d.hd, 100000.0f);
    const int64_t n = int64_t(d.B) * d.T * d.ld;
    const std::string shape = dims({{"B", d.B}, {"T", d.T}, {"H", d.H}, {"hd", d.hd}, {"ld", double(d.ld)}});
    for (bool backward : {false, true}) {
      OpCase c{backward ? "rope_backward" : "rope_forward", shape};
      c.tensors = {acc("x", rnd(n, backward ? 2 : 1, -3.0f, 3.0f), kBits), in("cos", as_f64(cos)),
                   in("sin", as_f64(sin))};
      c.call = [=](const KernelOps& o, const OpArgs& a) {
        if (backward) {
          o.rope_backward(a.f(0), a.f(0), a.f(1), a.f(2), d.B, d.T, d.H, d.hd, d.ld);
        } else {
          o.rope_forward(a.f(0), a.f(0), a.f(1), a.f(2), d.B, d.T, d.H, d.hd, d.ld);
        }
      };
      c.reference = [=](const std::vector<OpTensor>& t) {
        return rotate(t[0].init, cos, sin, d.B, d.T, d.H, d.hd, d.ld, backward);
      };
      cases.push_back(c);
    }
  }
}

void swiglu(std::vector<OpCase>& cases) {
  const int N = 131, F = 263;
  const auto inp = rnd(int64_t(N) * 2 * F, 1, -8.0f, 8.0f);
  OpCase f{"swiglu_forward", dims({{"N", N}, {"F", F}})};
  f.tensors = {out("out", int64_t(N) * F, kFwd), in("inp", inp)};
  f.call = [=](const KernelOps& o, const OpArgs& a) { o.swiglu_forward(a.f(0), a.f(1), N, F); };
  f.reference = [=](const std::vector<OpTensor>& t) {
    std::vector<double> want(size_t(N) * F);
    for (int64_t r = 0; r < N; ++r)
      for (int64_t j = 0; j < F; ++j) {
        const double g = t[1].init[r * 2 * F + j], u = t[1].init[r * 2 * F + F + j];
        want[r * F + j] = g / (1.0 + std::exp(-g)) * u;
      }
    return want;
  };
  cases.push_back(f);
  OpCase b{"swiglu_backward", f.shape};
  b.tensors = {acc("dinp", rnd(int64_t(N) * 2 * F, 3), kBwd), in("dout", rnd(int64_t(N) * F, 2)), in("inp", inp)};
  b.call = [=](const KernelOps& o, const OpArgs& a) { o.swiglu_backward(a.f(0), a.f(1), a.f(2), N, F); };
  cases.push_back(b);
}

void attention_lse(std::vector<OpCase>& cases) {
  struct Dims { AttentionShape s; float p; };
  // GQA past one CPU query chunk with an odd head size; MQA with dropout; SmolLM2's heads.
  for (const Dims& k : {Dims{{2, 67, 6, 2, 5}, 0.0f}, Dims{{2, 67, 6, 2, 5}, 0.2f}, Dims{{1, 131, 5, 1, 8}, 0.1f},
                        Dims{{2, 64, 9, 3, 64}, 0.0f}}) {
    const AttentionShape s = k.s;
    const DropoutSite drop{k.p, 77, 5, 1, 9};
    const int64_t n_qkv = int64_t(s.B) * s.T * s.qkv_width(), n_out = int64_t(s.B) * s.T * s.q_width();
    const int64_t n_lse = int64_t(s.B) * s.n_head * s.T;
    const std::string shape = dims(
        {{"B", s.B}, {"T", s.T}, {"NH", s.n_head}, {"NKV", s.n_kv_head}, {"hs", s.head_size}, {"p", k.p}});
    const auto qkv = rnd(n_qkv, 1, -2.0f, 2.0f);
    OpCase f{"attention_lse_forward", shape};
    f.tensors = {out("out", n_out, kFwd, Elem::kF32, kFp32Backward), out("lse", n_lse, kFwd), in("qkv", qkv)};
    f.call = [=](const KernelOps& o, const OpArgs& a) { o.attention_lse_forward(a.f(0), a.f(1), a.f(2), s, drop); };
    cases.push_back(f);
    std::vector<float> y(static_cast<size_t>(n_out)), lse(static_cast<size_t>(n_lse));
    cpu::attention_lse_forward(y.data(), lse.data(), as_f32(qkv).data(), s, drop);
    OpCase b{"attention_lse_backward", shape};
    b.tensors = {acc("dqkv", rnd(n_qkv, 3), kBwd), in("dout", rnd(n_out, 2)), in("qkv", qkv), in("lse", as_f64(lse))};
    b.call = [=](const KernelOps& o, const OpArgs& a) {
      o.attention_lse_backward(a.f(0), a.f(1), a.f(2), a.f(3), s, drop);
    };
    cases.push_back(b);
  }
}

}  // namespace

void llama_op_cases(std::vector<OpCase>& cases) {
  rmsnorm(cases);
  rope(cases);
  swiglu(cases);
  attention_lse(cases);
}

}  // namespace cairn::test

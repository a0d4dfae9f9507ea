// tests/kernels/test_alignment.cpp — every CPU kernel in kernels/kernels.h gives the same bits
// wherever its buffers lie in memory.
//
// Heap layout differs between runs and between MPI ranks, so a result that depends on a
// pointer's alignment (a compiler's scalar peel before an aligned vector body, Eigen choosing a
// path by alignment) breaks bitwise-reproducible training. Each test places EVERY pointer
// argument (inputs, outputs, statistics, targets) at 0..15 floats past a 64-byte boundary —
// the same shift for all, a different shift for each, one argument moved alone — and expects
// memcmp-equal outputs to the run with all arguments 64-byte aligned. Shapes are the model's
// (N = 64 rows, C = 32, 3C, 4C, V = Vp = 256) plus odd and prime ones for ragged edges;
// dropout p > 0 and the in-place aliasing the model uses (dlogits == logits) are included.
#include <cstdint>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"

namespace cairn::test {
namespace {

constexpr int kMaxShift = 16;  // shifts are 0..15 elements: every offset inside a 64-byte line

// A copy of `v` whose first element lies `shift` elements past a 64-byte boundary.
template <typename T>
class Placed {
 public:
  Placed(const std::vector<T>& v, int shift) : storage_(v.size() + 64 / sizeof(T) + kMaxShift) {
    const auto addr = reinterpret_cast<uintptr_t>(storage_.data());
    const size_t to_line = ((64 - addr % 64) % 64) / sizeof(T);
    data_ = storage_.data() + to_line + shift;
    std::memcpy(data_, v.data(), v.size() * sizeof(T));
    size_ = v.size();
  }
  T* data() { return data_; }
  std::vector<T> values() const { return std::vector<T>(data_, data_ + size_); }

 private:
  std::vector<T> storage_;
  T* data_;
  size_t size_;
};

// The raw bytes of each output, named for the failure message.
struct Output {
  std::string name;
  std::vector<uint8_t> bytes;
  size_t elem_size;
};
using Outputs = std::vector<Output>;

template <typename T>
Output output(const std::string& name, const Placed<T>& p) {
  const std::vector<T> v = p.values();
  Output o{name, std::vector<uint8_t>(v.size() * sizeof(T)), sizeof(T)};
  std::memcpy(o.bytes.data(), v.data(), o.bytes.size());
  return o;
}

// Shift patterns for a kernel with n pointer arguments: a sweep with one shift for all, two
// families with a different shift per argument, and each argument moved alone.
std::vector<std::vector<int>> shift_patterns(int n) {
  std::vector<std::vector<int>> patterns;
  for (int s = 0; s < kMaxShift; ++s) {
    std::vector<int> same(n, s), staggered(n), scrambled(n);
    for (int k = 0; k < n; ++k) {
      staggered[k] = (s + 5 * k) % kMaxShift;
      scrambled[k] = (7 * s * (k + 1) + 3 * k) % kMaxShift;
    }
    patterns.push_back(same);
    patterns.push_back(staggered);
    patterns.push_back(scrambled);
  }
  for (int k = 0; k < n; ++k)
    for (int s : {1, 3, 8, 15}) {
      std::vector<int> alone(n, 0);
      alone[k] = s;
      patterns.push_back(alone);
    }
  return patterns;
}

std::string describe(const std::vector<int>& shifts) {
  std::ostringstream s;
  s << "shifts {";
  for (size_t k = 0; k < shifts.size(); ++k) s << (k ? ", " : "") << shifts[k];
  s << "}";
  return s.str();
}

// run(shifts) places its k-th pointer argument at shifts[k] elements past a 64-byte boundary
// and returns the outputs; they must equal, bit for bit, those of the all-aligned run.
void expect_alignment_invariant(const std::string& what, int n_args,
                                const std::function<Outputs(const std::vector<int>&)>& run) {
  const Outputs want = run(std::vector<int>(n_args, 0));
  for (const std::vector<int>& shifts : shift_patterns(n_args)) {
    const Outputs got = run(shifts);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].bytes.size(), want[i].bytes.size());
      if (std::memcmp(got[i].bytes.data(), want[i].bytes.data(), got[i].bytes.size()) == 0) continue;
      size_t first = 0;
      while (got[i].bytes[first] == want[i].bytes[first]) ++first;
      ADD_FAILURE() << what << ": output " << got[i].name << " differs (first at element "
                    << first / got[i].elem_size << ") with " << describe(shifts);
      return;  // one report per case is enough to locate it
    }
  }
}

std::vector<float> uniform(int64_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  return random_floats(n, seed, lo, hi);
}

DropoutSite dropout_site(float p) {
  DropoutSite d;
  d.p = p;
  d.seed = 1234;
  d.step = 7;
  d.micro_batch = 3;
  d.site = 9;
  return d;
}

const float kDropoutProbs[] = {0.0f, 0.1f};

// ---- encoder -------------------------------------------------------------------------------

TEST(Alignment, Encoder) {
  struct Shape { int B, T, C, Vp; };
  for (const Shape s : {Shape{2, 32, 32, 256}, Shape{3, 7, 13, 37}, Shape{1, 5, 3, 11}}) {
    const int64_t N = int64_t(s.B) * s.T;
    const auto tokens = random_tokens(N, s.Vp, 1);  // repeats: several rows add into one dwte row
    const auto wte = uniform(int64_t(s.Vp) * s.C, 2), wpe = uniform(int64_t(s.T) * s.C, 3);
    const auto dout = uniform(N * s.C, 4);
    const std::string shape = " B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " C=" + std::to_string(s.C);
    expect_alignment_invariant("encoder_forward" + shape, 4, [&](const std::vector<int>& sh) {
      Placed<float> out(std::vector<float>(N * s.C), sh[0]), e(wte, sh[2]), p(wpe, sh[3]);
      Placed<int32_t> tok(tokens, sh[1]);
      cpu::encoder_forward(out.data(), tok.data(), e.data(), p.data(), s.B, s.T, s.C);
      return Outputs{output("out", out)};
    });
    expect_alignment_invariant("encoder_backward" + shape, 4, [&](const std::vector<int>& sh) {
      Placed<float> dwte(uniform(int64_t(s.Vp) * s.C, 5), sh[0]), dwpe(uniform(int64_t(s.T) * s.C, 6), sh[1]);
      Placed<float> d(dout, sh[2]);
      Placed<int32_t> tok(tokens, sh[3]);
      cpu::encoder_backward(dwte.data(), dwpe.data(), d.data(), tok.data(), s.B, s.T, s.C);
      return Outputs{output("dwte", dwte), output("dwpe", dwpe)};
    });
  }
}

// ---- layernorm -----------------------------------------------------------------------------

TEST(Alignment, LayerNorm) {
  struct Shape { int N, C; };
  for (const Shape s : {Shape{64, 32}, Shape{64, 128}, Shape{37, 13}, Shape{5, 101}, Shape{3, 7}}) {
    const int64_t NC = int64_t(s.N) * s.C;
    const auto inp = uniform(NC, 10, -2.0f, 3.0f), weight = uniform(s.C, 11, 0.5f, 1.5f);
    const auto bias = uniform(s.C, 12), dout = uniform(NC, 13);
    std::vector<float> mean(s.N), rstd(s.N);
    {
      std::vector<float> out(NC);
      cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), inp.data(), weight.data(), bias.data(), s.N, s.C);
    }
    const std::string shape = " N=" + std::to_string(s.N) + " C=" + std::to_string(s.C);
    expect_alignment_invariant("layernorm_forward" + shape, 6, [&](const std::vector<int>& sh) {
      Placed<float> out(std::vector<float>(NC), sh[0]), m(std::vector<float>(s.N), sh[1]);
      Placed<float> r(std::vector<float>(s.N), sh[2]), x(inp, sh[3]), w(weight, sh[4]), b(bias, sh[5]);
      cpu::layernorm_forward(out.data(), m.data(), r.data(), x.data(), w.data(), b.data(), s.N, s.C);
      return Outputs{output("out", out), output("mean", m), output("rstd", r)};
    });
    expect_alignment_invariant("layernorm_backward" + shape, 8, [&](const std::vector<int>& sh) {
      Placed<float> dinp(uniform(NC, 14), sh[0]), dw(uniform(s.C, 15), sh[1]), db(uniform(s.C, 16), sh[2]);
      Placed<float> dy(dout, sh[3]), x(inp, sh[4]), w(weight, sh[5]), m(mean, sh[6]), r(rstd, sh[7]);
      cpu::layernorm_backward(dinp.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), m.data(),
                              r.data(), s.N, s.C);
      return Outputs{output("dinp", dinp), output("dweight", dw), output("dbias", db)};
    });
  }
}

// ---- matmul --------------------------------------------------------------------------------

struct MatShape { int N, IC, OC; };
// The model's products (C = 32: qkv, attproj, fc, fcproj, LM head) and odd ones, including a
// single row, a single output column (Eigen's matrix-vector kernels) and a single input
// column (its outer product), and products small enough for Eigen's coefficient-based path.
const MatShape kMatShapes[] = {{64, 32, 96}, {64, 32, 32}, {64, 32, 128}, {64, 128, 32}, {64, 32, 256},
                               {37, 13, 41}, {131, 37, 263}, {1, 32, 96}, {7, 5, 1}, {1, 1, 17}, {5, 1, 7},
                               {1, 2, 16}, {2, 4, 13}, {3, 3, 8}};

std::string mat_name(const char* op, const MatShape& s) {
  return std::string(op) + " N=" + std::to_string(s.N) + " IC=" + std::to_string(s.IC) + " OC=" + std::to_string(s.OC);
}

TEST(Alignment, Matmul) {
  for (const MatShape& s : kMatShapes) {
    const int64_t N = s.N, IC = s.IC, OC = s.OC;
    const auto inp = uniform(N * IC, 20), weight = uniform(IC * OC, 21), bias = uniform(OC, 22);
    const auto dout = uniform(N * OC, 23);
    for (bool with_bias : {true, false}) {
      expect_alignment_invariant(mat_name("matmul_forward", s) + (with_bias ? " bias" : ""), 4,
                                 [&](const std::vector<int>& sh) {
        Placed<float> out(std::vector<float>(N * OC), sh[0]), x(inp, sh[1]), w(weight, sh[2]), b(bias, sh[3]);
        cpu::matmul_forward(out.data(), x.data(), w.data(), with_bias ? b.data() : nullptr, s.N, s.IC, s.OC);
        return Outputs{output("out", out)};
      });
      expect_alignment_invariant(mat_name("matmul_backward", s) + (with_bias ? " dbias" : ""), 6,
                                 [&](const std::vector<int>& sh) {
        Placed<float> dinp(uniform(N * IC, 24), sh[0]), dw(uniform(IC * OC, 25), sh[1]), db(uniform(OC, 26), sh[2]);
        Placed<float> dy(dout, sh[3]), x(inp, sh[4]), w(weight, sh[5]);
        cpu::matmul_backward(dinp.data(), dw.data(), with_bias ? db.data() : nullptr, dy.data(), x.data(), w.data(),
                             s.N, s.IC, s.OC);
        return Outputs{output("dinp", dinp), output("dweight", dw), output("dbias", db)};
      });
    }
    // dinp == nullptr (the first layer's input needs no gradient in some callers).
    expect_alignment_invariant(mat_name("matmul_backward no dinp", s), 4, [&](const std::vector<int>& sh) {
      Placed<float> dw(uniform(IC * OC, 25), sh[0]), dy(dout, sh[1]), x(inp, sh[2]), w(weight, sh[3]);
      cpu::matmul_backward(nullptr, dw.data(), nullptr, dy.data(), x.data(), w.data(), s.N, s.IC, s.OC);
      return Outputs{output("dweight", dw)};
    });
  }
}

TEST(Alignment, MatmulNT) {
  for (const MatShape& s : kMatShapes) {
    const int64_t N = s.N, IC = s.IC, OC = s.OC;
    const auto inp = uniform(N * IC, 30), weight = uniform(OC * IC, 31), dout = uniform(N * OC, 32);
    expect_alignment_invariant(mat_name("matmul_nt_forward", s), 3, [&](const std::vector<int>& sh) {
      Placed<float> out(std::vector<float>(N * OC), sh[0]), x(inp, sh[1]), w(weight, sh[2]);
      cpu::matmul_nt_forward(out.data(), x.data(), w.data(), s.N, s.IC, s.OC);
      return Outputs{output("out", out)};
    });
    expect_alignment_invariant(mat_name("matmul_nt_backward", s), 5, [&](const std::vector<int>& sh) {
      Placed<float> dinp(uniform(N * IC, 33), sh[0]), dw(uniform(OC * IC, 34), sh[1]);
      Placed<float> dy(dout, sh[2]), x(inp, sh[3]), w(weight, sh[4]);
      cpu::matmul_nt_backward(dinp.data(), dw.data(), dy.data(), x.data(), w.data(), s.N, s.IC, s.OC);
      return Outputs{output("dinp", dinp), output("dweight", dw)};
    });
  }
}

// ---- attention -----------------------------------------------------------------------------

TEST(Alignment, Attention) {
  struct Shape { int B, T, C, NH; };
  // The model's (T = 32, C = 32, 2 heads); T past one 64-query chunk with a ragged last chunk
  // of 3 and of 1 query (a single-row product); odd head sizes, head size 1 (outer products);
  // a single position.
  for (const Shape s : {Shape{2, 32, 32, 2}, Shape{1, 67, 12, 3}, Shape{1, 65, 10, 2}, Shape{2, 13, 15, 5},
                        Shape{2, 9, 3, 3}, Shape{1, 5, 8, 2}, Shape{1, 1, 8, 2}}) {
    const int64_t NC = int64_t(s.B) * s.T * s.C, natt = int64_t(s.B) * s.NH * s.T * s.T;
    const auto qkv = uniform(3 * NC, 40, -2.0f, 2.0f), dout = uniform(NC, 41);
    for (float p : kDropoutProbs) {
      const DropoutSite drop = dropout_site(p);
      std::vector<float> att(natt);
      {
        std::vector<float> out(NC);
        cpu::attention_forward(out.data(), att.data(), qkv.data(), mha_shape(s.B, s.T, s.C, s.NH), drop);
      }
      const std::string name = " B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " C=" +
                               std::to_string(s.C) + " NH=" + std::to_string(s.NH) + " p=" + std::to_string(p);
      expect_alignment_invariant("attention_forward" + name, 3, [&](const std::vector<int>& sh) {
        Placed<float> out(std::vector<float>(NC), sh[0]), a(std::vector<float>(natt), sh[1]), x(qkv, sh[2]);
        cpu::attention_forward(out.data(), a.data(), x.data(), mha_shape(s.B, s.T, s.C, s.NH), drop);
        return Outputs{output("out", out), output("att", a)};
      });
      expect_alignment_invariant("attention_backward" + name, 4, [&](const std::vector<int>& sh) {
        Placed<float> dqkv(uniform(3 * NC, 42), sh[0]), dy(dout, sh[1]), x(qkv, sh[2]), a(att, sh[3]);
        cpu::attention_backward(dqkv.data(), dy.data(), x.data(), a.data(), mha_shape(s.B, s.T, s.C, s.NH), drop);
        return Outputs{output("dqkv", dqkv)};
      });
    }
  }
}

// ---- element-wise: GELU, residual, dropout -------------------------------------------------

// The model's 4*N*C and N*C, a length past one parallel tile, and odd ones.
const int64_t kLengths[] = {64 * 128, 64 * 32, (1 << 14) + 37, 1001, 17, 3};

TEST(Alignment, Gelu) {
  for (int64_t n : kLengths) {
    const auto inp = uniform(n, 50, -4.0f, 4.0f), dout = uniform(n, 51);
    const std::string len = " n=" + std::to_string(n);
    expect_alignment_invariant("gelu_forward" + len, 2, [&](const std::vector<int>& sh) {
      Placed<float> out(std::vector<float>(n), sh[0]), x(inp, sh[1]);
      cpu::gelu_forward(out.data(), x.data(), n);
      return Outputs{output("out", out)};
    });
    expect_alignment_invariant("gelu_backward" + len, 3, [&](const std::vector<int>& sh) {
      Placed<float> dinp(uniform(n, 52), sh[0]), x(inp, sh[1]), dy(dout, sh[2]);
      cpu::gelu_backward(dinp.data(), x.data(), dy.data(), n);
      return Outputs{output("dinp", dinp)};
    });
  }
}

TEST(Alignment, Residual) {
  for (int64_t n : kLengths) {
    const auto a = uniform(n, 55), b = uniform(n, 56);
    expect_alignment_invariant("residual_forward n=" + std::to_string(n), 3, [&](const std::vector<int>& sh) {
      Placed<float> out(std::vector<float>(n), sh[0]), pa(a, sh[1]), pb(b, sh[2]);
      cpu::residual_forward(out.data(), pa.data(), pb.data(), n);
      return Outputs{output("out", out)};
    });
  }
}

TEST(Alignment, Dropout) {
  for (int64_t n : kLengths)
    for (float p : {0.0f, 0.1f, 0.5f}) {
      const DropoutSite drop = dropout_site(p);
      const auto inp = uniform(n, 60), dout = uniform(n, 61);
      const std::string name = " n=" + std::to_string(n) + " p=" + std::to_string(p);
      expect_alignment_invariant("dropout_forward" + name, 2, [&](const std::vector<int>& sh) {
        Placed<float> out(std::vector<float>(n), sh[0]), x(inp, sh[1]);
        cpu::dropout_forward(out.data(), x.data(), n, drop);
        return Outputs{output("out", out)};
      });
      expect_alignment_invariant("dropout_backward" + name, 2, [&](const std::vector<int>& sh) {
        Placed<float> dinp(uniform(n, 62), sh[0]), dy(dout, sh[1]);
        cpu::dropout_backward(dinp.data(), dy.data(), n, drop);
        return Outputs{output("dinp", dinp)};
      });
    }
}

// ---- cross-entropy -------------------------------------------------------------------------

TEST(Alignment, CrossEntropy) {
  struct Shape { int N, V, Vp; };
  // The model's (V = Vp = 256); padding; V past one 256-wide exp block; odd and tiny.
  for (const Shape s : {Shape{64, 256, 256}, Shape{64, 250, 256}, Shape{7, 1009, 1024}, Shape{13, 37, 40},
                        Shape{3, 5, 5}}) {
    const int64_t NV = int64_t(s.N) * s.Vp;
    const auto logits = uniform(NV, 70, -6.0f, 6.0f);
    const auto targets = random_tokens(s.N, s.V, 71);
    for (float dloss : {1.0f / 64.0f, 1.0f / float(s.N), 0.37f, 1.0f}) {
      const std::string name = " N=" + std::to_string(s.N) + " V=" + std::to_string(s.V) + " Vp=" +
                               std::to_string(s.Vp) + " dloss=" + std::to_string(dloss);
      expect_alignment_invariant("crossentropy loss only" + name, 3, [&](const std::vector<int>& sh) {
        Placed<float> losses(std::vector<float>(s.N), sh[0]), x(logits, sh[1]);
        Placed<int32_t> t(targets, sh[2]);
        cpu::crossentropy_forward_backward(losses.data(), nullptr, x.data(), t.data(), s.N, s.V, s.Vp, dloss);
        return Outputs{output("losses", losses)};
      });
      expect_alignment_invariant("crossentropy separate dlogits" + name, 4, [&](const std::vector<int>& sh) {
        Placed<float> losses(std::vector<float>(s.N), sh[0]), d(std::vector<float>(NV, 5.0f), sh[1]);
        Placed<float> x(logits, sh[2]);
        Placed<int32_t> t(targets, sh[3]);
        cpu::crossentropy_forward_backward(losses.data(), d.data(), x.data(), t.data(), s.N, s.V, s.Vp, dloss);
        return Outputs{output("losses", losses), output("dlogits", d)};
      });
      // The model's backward: dlogits written over the logits.
      expect_alignment_invariant("crossentropy in place" + name, 3, [&](const std::vector<int>& sh) {
        Placed<float> losses(std::vector<float>(s.N), sh[0]), x(logits, sh[1]);
        Placed<int32_t> t(targets, sh[2]);
        cpu::crossentropy_forward_backward(losses.data(), x.data(), x.data(), t.data(), s.N, s.V, s.Vp, dloss);
        return Outputs{output("losses", losses), output("dlogits", x)};
      });
    }
  }
}

// ---- optimizer and flat reductions ---------------------------------------------------------

// The tiny model's parameter count (several tiles), one tile and a bit, odd and tiny.
const int64_t kFlatLengths[] = {34688, (1 << 14) + 37, 4099, 17, 3};

TEST(Alignment, AdamW) {
  for (int64_t n : kFlatLengths) {
    const auto params = uniform(n, 80), grads = uniform(n, 81, -0.1f, 0.1f);
    const auto m = uniform(n, 82, -0.01f, 0.01f), v = uniform(n, 83, 0.0f, 1e-4f);
    struct Hyper { float lr, wd, grad_scale; int64_t t; };
    for (const Hyper h : {Hyper{3e-3f, 0.1f, 1.0f, 1}, Hyper{6e-4f, 0.0f, 0.4321f, 17}, Hyper{1e-2f, 0.1f, 0.9f, 1000}}) {
      expect_alignment_invariant("adamw_update n=" + std::to_string(n) + " t=" + std::to_string(h.t), 4,
                                 [&](const std::vector<int>& sh) {
        Placed<float> p(params, sh[0]), g(grads, sh[1]), pm(m, sh[2]), pv(v, sh[3]);
        cpu::adamw_update(p.data(), g.data(), pm.data(), pv.data(), n, h.lr, 0.9f, 0.95f, 1e-8f, h.wd, h.t,
                          h.grad_scale);
        return Outputs{output("params", p), output("m", pm), output("v", pv)};
      });
    }
  }
}

TEST(Alignment, SumsqChunks) {
  struct Shape { int64_t n_chunks, chunk; };
  for (const Shape s : {Shape{1, 34688}, Shape{4, 8672}, Shape{5, 1001}, Shape{3, 7}}) {
    const auto x = uniform(s.n_chunks * s.chunk, 90, -3.0f, 3.0f);
    expect_alignment_invariant("sumsq_chunks chunk=" + std::to_string(s.chunk), 2, [&](const std::vector<int>& sh) {
      Placed<double> out(std::vector<double>(s.n_chunks), sh[0]);
      Placed<float> px(x, sh[1]);
      cpu::sumsq_chunks(out.data(), px.data(), s.n_chunks, s.chunk);
      return Outputs{output("out", out)};
    });
  }
}

TEST(Alignment, AddInplace) {
  for (int64_t n : kFlatLengths) {
    const auto a = uniform(n, 95), b = uniform(n, 96);
    expect_alignment_invariant("add_inplace n=" + std::to_string(n), 2, [&](const std::vector<int>& sh) {
      Placed<float> pa(a, sh[0]), pb(b, sh[1]);
      cpu::add_inplace(pa.data(), pb.data(), n);
      return Outputs{output("a", pa)};
    });
  }
}

}  // namespace
}  // namespace cairn::test

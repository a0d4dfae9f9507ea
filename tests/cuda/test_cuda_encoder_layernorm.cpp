// tests/cuda/test_cuda_encoder_layernorm.cpp — CUDA vs CPU for the embedding (forward, and a
// bitwise backward: same per-element summation order, no atomics) and LayerNorm (forward and
// backward within tolerance; the deterministic column reductions give the same bits twice).
#include <vector>

#include "../kernels/kernel_test_util.h"
#include "cuda_test_util.h"

namespace cairn::test {
namespace {

class CudaEncoder : public CudaTest {};
class CudaLayernorm : public CudaTest {};

TEST_F(CudaEncoder, ForwardIsBitwise) {
  const int B = 3, T = 37, C = 53, Vp = 67;
  const auto tokens = random_tokens(B * T, Vp, 1);
  const auto wte = random_floats(Vp * C, 2), wpe = random_floats((T + 3) * C, 3);
  std::vector<float> out(B * T * C);
  cpu::encoder_forward(out.data(), tokens.data(), wte.data(), wpe.data(), B, T, C);
  auto d_tok = to_device(tokens);
  auto d_wte = to_device(wte), d_wpe = to_device(wpe);
  auto d_out = poisoned(out.size());
  gpu().encoder_forward(d_out.data(), d_tok.data(), d_wte.data(), d_wpe.data(), B, T, C);
  EXPECT_TRUE(bitwise_equal(to_host(d_out), out));
}

// Few distinct tokens, so every dwte row receives many rows: the case float atomics would
// make order-dependent. The CUDA sums run in the CPU's (b, t) order: bitwise equal, twice.
TEST_F(CudaEncoder, BackwardIsBitwiseAndRepeatable) {
  const int B = 5, T = 41, C = 131, Vp = 7;
  const auto tokens = random_tokens(B * T, Vp, 4);
  const auto dout = random_floats(B * T * C, 5);
  const auto dwte0 = random_floats(Vp * C, 6), dwpe0 = random_floats(T * C, 7);
  auto dwte = dwte0, dwpe = dwpe0;
  cpu::encoder_backward(dwte.data(), dwpe.data(), dout.data(), tokens.data(), B, T, C);
  auto d_tok = to_device(tokens);
  auto d_dout = to_device(dout);
  for (int run = 0; run < 2; ++run) {
    auto d_dwte = to_device(dwte0), d_dwpe = to_device(dwpe0);
    gpu().encoder_backward(d_dwte.data(), d_dwpe.data(), d_dout.data(), d_tok.data(), B, T, C);
    EXPECT_TRUE(bitwise_equal(to_host(d_dwte), dwte)) << "dwte, run " << run;
    EXPECT_TRUE(bitwise_equal(to_host(d_dwpe), dwpe)) << "dwpe, run " << run;
  }
}

TEST_F(CudaEncoder, BackwardLargeVocabulary) {
  // GPT-2's padded vocabulary: most rows untouched, which must stay exactly as they were.
  const int B = 2, T = 67, C = 96, Vp = 50304;
  const auto tokens = random_tokens(B * T, 50257, 8);
  const auto dout = random_floats(B * T * C, 9);
  const auto dwte0 = random_floats(int64_t(Vp) * C, 10), dwpe0 = random_floats(T * C, 11);
  auto dwte = dwte0, dwpe = dwpe0;
  cpu::encoder_backward(dwte.data(), dwpe.data(), dout.data(), tokens.data(), B, T, C);
  auto d_tok = to_device(tokens);
  auto d_dout = to_device(dout), d_dwte = to_device(dwte0), d_dwpe = to_device(dwpe0);
  gpu().encoder_backward(d_dwte.data(), d_dwpe.data(), d_dout.data(), d_tok.data(), B, T, C);
  EXPECT_TRUE(bitwise_equal(to_host(d_dwte), dwte));
  EXPECT_TRUE(bitwise_equal(to_host(d_dwpe), dwpe));
}

TEST_F(CudaLayernorm, ForwardMatchesCpu) {
  for (auto [N, C] : {std::pair{97, 61}, std::pair{131, 768}, std::pair{3, 1031}}) {
    const auto x = random_floats(int64_t(N) * C, 1, -3.0f, 5.0f);
    const auto w = random_floats(C, 2), b = random_floats(C, 3);
    std::vector<float> out(size_t(N) * C), mean(N), rstd(N);
    cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
    auto d_x = to_device(x), d_w = to_device(w), d_b = to_device(b);
    auto d_out = poisoned(out.size()), d_mean = poisoned(N), d_rstd = poisoned(N);
    gpu().layernorm_forward(d_out.data(), d_mean.data(), d_rstd.data(), d_x.data(), d_w.data(), d_b.data(), N, C);
    expect_matches_cpu(to_host(d_out), out, kFp32Forward, kFp32RelL2Forward, "out");
    expect_matches_cpu(to_host(d_mean), mean, kFp32Forward, kFp32RelL2Forward, "mean");
    expect_matches_cpu(to_host(d_rstd), rstd, kFp32Forward, kFp32RelL2Forward, "rstd");
  }
}

TEST_F(CudaLayernorm, BackwardMatchesCpuAndRepeats) {
  const int N = 211, C = 101;  // N spans several 64-row column chunks, ragged
  const auto x = random_floats(int64_t(N) * C, 4, -2.0f, 2.0f), dout = random_floats(int64_t(N) * C, 5);
  const auto w = random_floats(C, 6), b = random_floats(C, 7);
  const auto dinp0 = random_floats(int64_t(N) * C, 8), dw0 = random_floats(C, 9), db0 = random_floats(C, 10);
  std::vector<float> out(size_t(N) * C), mean(N), rstd(N);
  cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
  auto dinp = dinp0, dw = dw0, db = db0;
  cpu::layernorm_backward(dinp.data(), dw.data(), db.data(), dout.data(), x.data(), w.data(), mean.data(),
                          rstd.data(), N, C);
  auto d_x = to_device(x), d_dout = to_device(dout), d_w = to_device(w);
  auto d_mean = to_device(mean), d_rstd = to_device(rstd);
  std::vector<std::vector<float>> first;
  for (int run = 0; run < 2; ++run) {
    auto d_dinp = to_device(dinp0), d_dw = to_device(dw0), d_db = to_device(db0);
    gpu().layernorm_backward(d_dinp.data(), d_dw.data(), d_db.data(), d_dout.data(), d_x.data(), d_w.data(),
                             d_mean.data(), d_rstd.data(), N, C);
    std::vector<std::vector<float>> got{to_host(d_dinp), to_host(d_dw), to_host(d_db)};
    expect_matches_cpu(got[0], dinp, kFp32Backward, kFp32RelL2Backward, "dinp");
    expect_matches_cpu(got[1], dw, kFp32Backward, kFp32RelL2Backward, "dweight");
    expect_matches_cpu(got[2], db, kFp32Backward, kFp32RelL2Backward, "dbias");
    if (run == 0) {
      first = got;
    } else {
      for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(bitwise_equal(got[i], first[i])) << "output " << i;
    }
  }
}

}  // namespace
}  // namespace cairn::test

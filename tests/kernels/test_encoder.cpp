// tests/kernels/test_encoder.cpp — encoder_forward/backward (token + position embedding)
// against float64 references, with repeated tokens so dwte rows receive several rows.
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

TEST(Encoder, ForwardMatchesReference) {
  const int B = 3, T = 7, C = 12, Vp = 11;
  const auto tokens = random_tokens(B * T, Vp, 1);
  const auto wte = random_floats(Vp * C, 2), wpe = random_floats((T + 2) * C, 3);  // wpe has >= T rows
  std::vector<float> out(B * T * C);
  cpu::encoder_forward(out.data(), tokens.data(), wte.data(), wpe.data(), B, T, C);
  std::vector<double> ref(out.size());
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < C; ++c)
        ref[(b * T + t) * C + c] = double(wte[tokens[b * T + t] * C + c]) + double(wpe[t * C + c]);
  EXPECT_ALL_CLOSE(out.data(), ref.data(), out.size(), kFp32Forward);
}

TEST(Encoder, BackwardAddsIntoRepeatedRows) {
  const int B = 3, T = 7, C = 67, Vp = 5;  // few tokens: many repeats; C spans two column tiles
  const auto tokens = random_tokens(B * T, Vp, 4);
  const auto dout = random_floats(B * T * C, 5);
  const auto dwte0 = random_floats(Vp * C, 6), dwpe0 = random_floats(T * C, 7);
  auto dwte = dwte0, dwpe = dwpe0;
  cpu::encoder_backward(dwte.data(), dwpe.data(), dout.data(), tokens.data(), B, T, C);
  std::vector<double> ref_wte(dwte0.begin(), dwte0.end()), ref_wpe(dwpe0.begin(), dwpe0.end());
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < C; ++c) {
        ref_wte[tokens[b * T + t] * C + c] += dout[(b * T + t) * C + c];
        ref_wpe[t * C + c] += dout[(b * T + t) * C + c];
      }
  EXPECT_ALL_CLOSE(dwte.data(), ref_wte.data(), dwte.size(), kFp32Backward);
  EXPECT_ALL_CLOSE(dwpe.data(), ref_wpe.data(), dwpe.size(), kFp32Backward);
}

TEST(Encoder, ThreadCountInvariant) {
  const int B = 4, T = 33, C = 150, Vp = 9;
  const auto tokens = random_tokens(B * T, Vp, 8);
  const auto wte = random_floats(Vp * C, 9), wpe = random_floats(T * C, 10);
  const auto dout = random_floats(B * T * C, 11);
  expect_thread_invariant([&] {
    std::vector<float> out(B * T * C), dwte(Vp * C, 0.5f), dwpe(T * C, 0.25f);
    cpu::encoder_forward(out.data(), tokens.data(), wte.data(), wpe.data(), B, T, C);
    cpu::encoder_backward(dwte.data(), dwpe.data(), dout.data(), tokens.data(), B, T, C);
    return std::vector<std::vector<float>>{out, dwte, dwpe};
  });
}

}  // namespace
}  // namespace cairn::test

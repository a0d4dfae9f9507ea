// tests/kernels/test_crossentropy.cpp — crossentropy_forward_backward over a padded vocabulary:
// float64 reference, finite differences, padding ignored and zeroed, in-place aliasing.
#include <cmath>
#include <limits>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernels.h"
#include "tolerance.h"

namespace cairn::test {
namespace {

struct Shape {
  int N, V, Vp;
};
const Shape kShapes[] = {{7, 61, 64}, {13, 1009, 1024}, {3, 17, 17}};

// Logits with the padding filled with NaN: the kernel must never read it.
std::vector<float> padded_logits(const Shape& s, uint32_t seed) {
  auto x = random_floats(size_t(s.N) * s.Vp, seed, -4.0f, 4.0f);
  for (int n = 0; n < s.N; ++n)
    for (int j = s.V; j < s.Vp; ++j) x[size_t(n) * s.Vp + j] = std::numeric_limits<float>::quiet_NaN();
  return x;
}

double ref_loss(const double* row, int V, int target) {
  double max = row[0], sum = 0;
  for (int j = 1; j < V; ++j) max = std::max(max, row[j]);
  for (int j = 0; j < V; ++j) sum += std::exp(row[j] - max);
  return std::log(sum) - (row[target] - max);
}

TEST(CrossEntropy, MatchesFloat64Reference) {
  for (const Shape& s : kShapes) {
    const auto logits = padded_logits(s, 1);
    const auto targets = random_tokens(s.N, s.V, 2);
    const float dloss = 1.0f / s.N;
    std::vector<float> losses(s.N), dlogits(logits.size(), 5.0f);
    cpu::crossentropy_forward_backward(losses.data(), dlogits.data(), logits.data(), targets.data(),
                                       s.N, s.V, s.Vp, dloss);
    std::vector<double> ref_losses(s.N), ref_d(logits.size());
    const auto x = to_double(logits);
    for (int n = 0; n < s.N; ++n) {
      const double* row = &x[size_t(n) * s.Vp];
      ref_losses[n] = ref_loss(row, s.V, targets[n]);
      double max = row[0], sum = 0;
      for (int j = 1; j < s.V; ++j) max = std::max(max, row[j]);
      for (int j = 0; j < s.V; ++j) sum += std::exp(row[j] - max);
      for (int j = 0; j < s.V; ++j)
        ref_d[size_t(n) * s.Vp + j] = (std::exp(row[j] - max) / sum - (j == targets[n])) * dloss;
    }
    EXPECT_ALL_CLOSE(losses.data(), ref_losses.data(), s.N, kFp32Forward);
    EXPECT_ALL_CLOSE(dlogits.data(), ref_d.data(), dlogits.size(), kFp32Backward);  // padding: exactly 0
    // With V = 1009 most dlogits lie below the absolute tolerance above, so an all-zero
    // gradient would pass it; the whole-tensor relative error would be 1.
    EXPECT_LE(relative_l2_error(dlogits.data(), ref_d.data(), int64_t(dlogits.size())), kFp32RelL2Backward)
        << "N=" << s.N << " V=" << s.V;
  }
}

TEST(CrossEntropy, GradientMatchesFiniteDifferences) {
  const Shape s{4, 23, 29};
  const auto logits = padded_logits(s, 3);
  const auto targets = random_tokens(s.N, s.V, 4);
  const float dloss = 0.37f;
  std::vector<float> losses(s.N), dlogits(logits.size());
  cpu::crossentropy_forward_backward(losses.data(), dlogits.data(), logits.data(), targets.data(),
                                     s.N, s.V, s.Vp, dloss);
  const auto x = to_double(logits);
  for (int n = 0; n < s.N; ++n) {
    const std::vector<double> row(x.begin() + size_t(n) * s.Vp, x.begin() + size_t(n) * s.Vp + s.V);
    const auto fd = finite_difference([&](const std::vector<double>& r) { return ref_loss(r.data(), s.V, targets[n]) * dloss; }, row);
    EXPECT_ALL_CLOSE(dlogits.data() + size_t(n) * s.Vp, fd.data(), s.V, kFp32Backward) << "row " << n;
    EXPECT_LE(relative_l2_error(dlogits.data() + size_t(n) * s.Vp, fd.data(), s.V), kFp32RelL2Backward) << "row " << n;
  }
}

TEST(CrossEntropy, InPlaceAndLossOnlyGiveTheSameBits) {
  const Shape s{13, 1009, 1024};
  const auto logits = padded_logits(s, 5);
  const auto targets = random_tokens(s.N, s.V, 6);
  std::vector<float> losses(s.N), dlogits(logits.size());
  cpu::crossentropy_forward_backward(losses.data(), dlogits.data(), logits.data(), targets.data(),
                                     s.N, s.V, s.Vp, 0.5f);
  auto inplace = logits;
  std::vector<float> losses_inplace(s.N), losses_only(s.N);
  cpu::crossentropy_forward_backward(losses_inplace.data(), inplace.data(), inplace.data(), targets.data(),
                                     s.N, s.V, s.Vp, 0.5f);
  cpu::crossentropy_forward_backward(losses_only.data(), nullptr, logits.data(), targets.data(),
                                     s.N, s.V, s.Vp, 0.5f);
  EXPECT_TRUE(same_bits(inplace, dlogits));
  EXPECT_TRUE(same_bits(losses_inplace, losses));
  EXPECT_TRUE(same_bits(losses_only, losses));
}

TEST(CrossEntropy, ThreadCountInvariant) {
  const Shape s{20, 1009, 1024};
  const auto logits = padded_logits(s, 7);
  const auto targets = random_tokens(s.N, s.V, 8);
  expect_thread_invariant([&] {
    std::vector<float> losses(s.N), dlogits(logits.size());
    cpu::crossentropy_forward_backward(losses.data(), dlogits.data(), logits.data(), targets.data(),
                                       s.N, s.V, s.Vp, 0.05f);
    return std::vector<std::vector<float>>{losses, dlogits};
  });
}

}  // namespace
}  // namespace cairn::test

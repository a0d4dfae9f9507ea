// tests/tolerance.h — the one tolerance helper every numeric test uses.
//
// A value passes when |got - want| <= atol + rtol * |want|. Tolerances are per dtype and per
// direction (backward accumulates more rounding than forward). expect_close() reports the
// first few failing indices and the worst error, so a failure says where and by how much.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace cairn::test {

struct Tolerance {
  double atol;
  double rtol;
};

// fp32 kernels compared with a float64 reference.
inline constexpr Tolerance kFp32Forward{1e-5, 1e-4};
inline constexpr Tolerance kFp32Backward{1e-4, 1e-3};

template <typename A, typename B>
::testing::AssertionResult all_close(const A* got, const B* want, int64_t n, Tolerance tol,
                                     const std::string& what = "") {
  int64_t bad = 0, worst_i = -1;
  double worst = 0;
  std::string first;
  for (int64_t i = 0; i < n; ++i) {
    double g = double(got[i]), w = double(want[i]);
    double err = std::fabs(g - w);
    bool ok = std::isfinite(g) && err <= tol.atol + tol.rtol * std::fabs(w);
    if (!ok) {
      if (bad < 3) first += " [" + std::to_string(i) + "] got " + std::to_string(g) + " want " + std::to_string(w) + ";";
      ++bad;
    }
    if (!(err <= worst)) { worst = err; worst_i = i; }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << n
                                       << " elements outside atol=" << tol.atol << " rtol=" << tol.rtol
                                       << ";" << first << " worst error " << worst << " at " << worst_i;
}

// ‖got - want‖₂ / ‖want‖₂ (0 when both are zero; infinite if got has a non-finite value).
// A whole-tensor measure for comparing two fp32 implementations (CUDA vs CPU), where single
// near-zero elements make element-wise relative bounds noisy.
template <typename A, typename B>
double relative_l2_error(const A* got, const B* want, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double g = double(got[i]), w = double(want[i]);
    if (!std::isfinite(g)) return INFINITY;
    num += (g - w) * (g - w);
    den += w * w;
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

// Relative L2 thresholds, fp32 implementation vs fp32 implementation.
inline constexpr double kFp32RelL2Forward = 1e-5;
inline constexpr double kFp32RelL2Backward = 1e-4;

#define EXPECT_ALL_CLOSE(got, want, n, tol) EXPECT_TRUE(::cairn::test::all_close(got, want, n, tol, #got))

}  // namespace cairn::test

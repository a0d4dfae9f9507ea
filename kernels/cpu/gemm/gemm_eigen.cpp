// kernels/cpu/gemm/gemm_eigen.cpp — cpu::gemm through Eigen's single-threaded GEMM kernels
// (the build's fallback when OpenBLAS is not installed, -DCAIRN_GEMM=eigen).
//
// Eigen derives its k-blocking from the cache sizes it detects; they are pinned below, and
// EIGEN_GEMM_TO_COEFFBASED_THRESHOLD = 0 keeps even tiny products on the packed kernels (the
// coefficient-based path peels unaligned heads with scalar code, so its bits would depend on
// the pointers' alignment).
#define EIGEN_GEMM_TO_COEFFBASED_THRESHOLD 0
// GCC 12 reports false -Wmaybe-uninitialized inside its own AVX-512 intrinsics once
// Eigen's kernels are inlined; silence it for Eigen's headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop

#include <cstdio>
#include <mutex>

#include "kernels/cpu/gemm.h"

namespace cairn::cpu {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using ConstMatMap = Eigen::Map<const RowMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;

MatMap mat(float* p, int64_t rows, int64_t cols, int64_t stride) {
  return MatMap(p, rows, cols, Eigen::OuterStride<>(stride));
}
ConstMatMap mat(const float* p, int64_t rows, int64_t cols, int64_t stride) {
  return ConstMatMap(p, rows, cols, Eigen::OuterStride<>(stride));
}

// Eigen derives its GEMM k-blocking — and so the summation order — from the cache sizes it
// detects at run time. Pinning them makes the bits independent of the machine's caches.
void pin_gemm_blocking() {
  static std::once_flag once;
  std::call_once(once, [] { Eigen::setCpuCacheSizes(32 << 10, 1 << 20, 32 << 20); });
}

}  // namespace

void gemm(Trans ta, Trans tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  pin_gemm_blocking();
  auto c = mat(C, M, N, ldc);
  const bool a_t = ta == Trans::kYes, b_t = tb == Trans::kYes;
  const auto a = mat(A, a_t ? K : M, a_t ? M : K, lda);
  const auto b = mat(B, b_t ? N : K, b_t ? K : N, ldb);
  auto product = [&](const auto& x, const auto& y) {
    if (beta == 0.0f) {
      c.noalias() = x * y;
    } else {
      c.noalias() += x * y;
    }
  };
  if (!a_t && !b_t) product(a, b);
  if (!a_t && b_t) product(a, b.transpose());
  if (a_t && !b_t) product(a.transpose(), b);
  if (a_t && b_t) product(a.transpose(), b.transpose());
}

const char* gemm_library() {
  static char name[32];
  if (!name[0]) std::snprintf(name, sizeof name, "eigen %d.%d.%d", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
  return name;
}

}  // namespace cairn::cpu

// kernels/cpu/gemm_tiles.h — single-threaded Eigen GEMMs on fixed output tiles (private header).
//
// Multi-threaded BLAS gives different bits at different thread counts. Instead every output
// block of a product is computed by ONE single-threaded Eigen GEMM over the FULL reduction
// dimension, and blocks are spread over threads with parallel_for. Block boundaries depend
// only on the shape, so each output element sees the same sequence of operations whatever
// the thread count.
//
// EIGEN_GEMM_TO_COEFFBASED_THRESHOLD = 0 keeps Eigen on its packed GEMM/GEMV kernels even
// for tiny blocks: its coefficient-based fallback peels unaligned heads with scalar code,
// which would make results depend on the pointers' alignment.
#pragma once

#ifndef EIGEN_GEMM_TO_COEFFBASED_THRESHOLD
#define EIGEN_GEMM_TO_COEFFBASED_THRESHOLD 0
#endif
// GCC 12 reports false -Wmaybe-uninitialized inside its own AVX-512 intrinsics once
// Eigen's kernels are inlined; silence it for Eigen's headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop
static_assert(EIGEN_GEMM_TO_COEFFBASED_THRESHOLD == 0,
              "include kernels/cpu/gemm_tiles.h before any other Eigen header");

#include <cstdint>
#include <mutex>

#include "core/parallel.h"

namespace cairn::cpu {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// A row-major view with an explicit row stride (e.g. one head's columns of qkv).
using MatMap = Eigen::Map<RowMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using ConstMatMap = Eigen::Map<const RowMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;

inline MatMap mat(float* p, int64_t rows, int64_t cols, int64_t stride) {
  return MatMap(p, rows, cols, Eigen::OuterStride<>(stride));
}
inline ConstMatMap mat(const float* p, int64_t rows, int64_t cols, int64_t stride) {
  return ConstMatMap(p, rows, cols, Eigen::OuterStride<>(stride));
}

// Eigen derives its GEMM k-blocking — and so the summation order — from the cache sizes it
// detects at run time. Pinning them makes the bits independent of the machine's caches
// (they still depend on the SIMD width chosen at compile time). Called before any GEMM.
inline void pin_gemm_blocking() {
  static std::once_flag once;
  std::call_once(once, [] { Eigen::setCpuCacheSizes(32 << 10, 1 << 20, 32 << 20); });
}

// Output blocks of a [rows, cols] result. 128 x 256 blocks keep Eigen's packing overhead
// (each block re-packs its operands) to a few percent while giving enough blocks to balance
// GPT-2 shapes over the cores; both are constants, so the blocking is a function of shape.
inline constexpr int64_t kTileRows = 128;
inline constexpr int64_t kTileCols = 256;

// fn(r0, nr, c0, nc) for every block, in parallel.
template <typename Fn>
void for_each_output_tile(int64_t rows, int64_t cols, Fn&& fn) {
  pin_gemm_blocking();
  const int64_t row_tiles = ceil_div(rows, kTileRows), col_tiles = ceil_div(cols, kTileCols);
  parallel_for(row_tiles * col_tiles, [&](int64_t tile) {
    const int64_t r0 = (tile / col_tiles) * kTileRows, c0 = (tile % col_tiles) * kTileCols;
    const int64_t nr = rows - r0 < kTileRows ? rows - r0 : kTileRows;
    const int64_t nc = cols - c0 < kTileCols ? cols - c0 : kTileCols;
    fn(r0, nr, c0, nc);
  });
}

}  // namespace cairn::cpu

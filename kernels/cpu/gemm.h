// kernels/cpu/gemm.h — the one single-threaded GEMM every CPU product goes through (private).
//
//   C[M,N] = op(A)[M,K] · op(B)[K,N] + beta · C      row-major, beta ∈ {0, 1}
//
// op(X) is X or Xᵀ; lda/ldb/ldc are row strides of the matrices as stored. Each call runs on
// the calling thread only, and its summation order depends on the shapes (and the SIMD width
// the library picked for this CPU) alone — never on the thread count or on the pointers'
// alignment (tests/kernels/test_alignment.cpp). Callers tile their outputs (gemm_tiles.h) and
// spread the tiles over threads.
//
// The library is chosen at configure time (-DCAIRN_GEMM=AUTO|openblas|eigen), one source file
// each in kernels/cpu/gemm/: single-threaded OpenBLAS (the Debian openblas-openmp build, each
// call forced onto its one thread, see gemm_openblas.cpp; it packs both operands, so
// alignment cannot matter) when found, else Eigen's GEMM kernels.
// Measured per tile in docs/benchmarks.md ("GEMM library").
#pragma once

#include <cstdint>

namespace cairn::cpu {

enum class Trans : bool { kNo = false, kYes = true };

void gemm(Trans ta, Trans tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// "openblas 0.3.21 (Cooperlake kernels)" or "eigen 3.4.0", for the start-up report and benchmarks.
const char* gemm_library();

}  // namespace cairn::cpu

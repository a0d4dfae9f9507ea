// kernels/cpu/gemm/gemm_openblas.cpp — cpu::gemm through single-threaded OpenBLAS.
//
// Linked against the openblas-serial flavour by path (CMakeLists.txt), never the pthread or
// OpenMP one: a serial sgemm per output tile keeps the bits independent of the thread count,
// and the serial build is safe to call from several threads at once (checked by the
// thread-invariance tests, which run many tiles concurrently). OpenBLAS picks its kernels
// from the CPU at run time (DYNAMIC_ARCH), so, like -march=native, bits are per CPU model.
#include <cblas.h>

#include <cstdio>

#include "core/error.h"
#include "kernels/cpu/gemm.h"

extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);

namespace cairn::cpu {

void gemm(Trans ta, Trans tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  CAIRN_CHECK(M < (int64_t(1) << 31) && N < (int64_t(1) << 31) && K < (int64_t(1) << 31) &&
                  lda < (int64_t(1) << 31) && ldb < (int64_t(1) << 31) && ldc < (int64_t(1) << 31),
              "[gemm] dimension over 2^31 (", M, "x", N, "x", K, ")");
  cblas_sgemm(CblasRowMajor, ta == Trans::kYes ? CblasTrans : CblasNoTrans,
              tb == Trans::kYes ? CblasTrans : CblasNoTrans, int(M), int(N), int(K), 1.0f, A, int(lda), B,
              int(ldb), beta, C, int(ldc));
}

const char* gemm_library() {
  static char name[160];
  if (!name[0]) std::snprintf(name, sizeof name, "%s (%s kernels)", openblas_get_config(), openblas_get_corename());
  return name;
}

}  // namespace cairn::cpu

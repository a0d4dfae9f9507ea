// kernels/cpu/gemm/gemm_openblas.cpp — cpu::gemm through OpenBLAS, one thread per call.
//
// Linked against the openblas-openmp flavour by path (CMakeLists.txt). Its thread count is
// set to 1 once, so every sgemm runs on the calling thread: one call per output tile keeps
// the bits independent of the thread count. That flavour is safe to call from the threads of
// an OpenMP parallel region; the serial flavour is not — it shares one buffer table without
// locks, and tests/kernels caught it giving wrong tiles intermittently. OpenBLAS picks its
// kernels from the CPU at run time (DYNAMIC_ARCH), so, like -march=native, bits are per CPU
// model.
#include <cblas.h>

#include <cstdio>

#include "core/error.h"
#include "kernels/cpu/gemm.h"

extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);
extern "C" void openblas_set_num_threads(int);

namespace cairn::cpu {

void gemm(Trans ta, Trans tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  static const bool single_threaded = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)single_threaded;
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

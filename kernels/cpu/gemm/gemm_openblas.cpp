// kernels/cpu/gemm/gemm_openblas.cpp — cpu::gemm through OpenBLAS, one thread per call.
//
// Linked against the openblas-openmp flavour by path (CMakeLists.txt): that flavour is safe
// to call from the threads of an OpenMP parallel region; the serial flavour
// (libopenblas0-serial) is not — it shares one buffer table without locks, and tests/kernels
// caught it giving wrong tiles intermittently.
//
// Every call must run OpenBLAS's single-threaded driver: one call per output tile is what
// keeps the bits independent of the thread count. openblas_set_num_threads(1) alone does
// not ensure it: on a call made outside an *active* parallel region, the OpenMP flavour
// (0.3.21, interface/gemm.c -> num_cpu_avail) resets its thread count to
// omp_get_max_threads(), so a product with a single output tile (parallel_for runs it on
// the calling thread, no region) was split over run.threads threads, and the threaded driver
// splits K differently (issue 13: seq_len 125, micro_batch 4 gave other bits at 1 and 2
// threads). num_cpu_avail returns 1 whenever omp_get_max_threads() is 1, so each call runs
// with the calling task's OpenMP thread count set to 1 (that setting is per task: it changes
// nothing for other threads) and restores it after.
//
// OpenBLAS picks its kernels from the CPU at run time (DYNAMIC_ARCH), so, like
// -march=native, bits are per CPU model.
#include <cblas.h>
#include <omp.h>

#include <cstdio>

#include "core/error.h"
#include "kernels/cpu/gemm.h"

extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);
extern "C" void openblas_set_num_threads(int);

namespace cairn::cpu {
namespace {

// Sets the calling task's OpenMP thread count to 1 for its lifetime.
class OneBlasThread {
 public:
  OneBlasThread() : saved_(omp_get_max_threads()) {
    if (saved_ != 1) omp_set_num_threads(1);
  }
  ~OneBlasThread() {
    if (saved_ != 1) omp_set_num_threads(saved_);
  }
  OneBlasThread(const OneBlasThread&) = delete;
  OneBlasThread& operator=(const OneBlasThread&) = delete;

 private:
  int saved_;
};

}  // namespace

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
  const OneBlasThread one_thread;
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

// core/parallel.h — thread-count-invariant parallelism.
//
// The rule behind cairn's "same bits at any OMP_NUM_THREADS": work is cut into tiles whose
// boundaries depend only on the problem shape, every tile is computed start to finish by
// one thread, and tiles never share a floating-point accumulator. Threads only decide *who*
// computes a tile, never *how*. Reductions across tiles write per-tile partials that are then
// combined in tile order by one thread.
//
// Threads come from OpenMP; set_num_threads() (run.threads) or OMP_NUM_THREADS choose how many.
#pragma once

#include <cstdint>

namespace cairn {

void set_num_threads(int n);  // n <= 0 keeps the OpenMP default (OMP_NUM_THREADS)
int num_threads();

// Run fn(tile) for tile in [0, n_tiles), tiles spread dynamically over the threads.
template <typename Fn>
void parallel_for(int64_t n_tiles, Fn&& fn) {
#pragma omp parallel for schedule(dynamic, 1) if (n_tiles > 1)
  for (int64_t t = 0; t < n_tiles; ++t) fn(t);
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace cairn

// scripts/bench/exchange_old.cpp — bench_exchange over the reduce-scatter of the commit before
// any-W (7aaa5f7: one partial per rank, W a power of two dividing G), built by
// scripts/bench/exchange.sh into that commit's tree (see exchange_bench.cpp).
#include "comm/reduce.h"

namespace cairn {

bool bench_supports(int G, int W) { return is_power_of_two(W) && G % W == 0; }
int bench_partials(int, int, int) { return 1; }
int64_t bench_scratch_floats(int64_t total, int, int W) { return reduce_scatter_scratch_floats(total, W); }
int64_t bench_sent_floats(int64_t total, int, int W, int rank) {
  return W == 1 ? 0 : total - owned_range(total, rank, W).size();
}
void bench_exchange(Comm& comm, const float* block, int64_t total, int, float* scratch) {
  reduce_scatter_canonical(comm, cpu_ops(), block, total, scratch, scratch);
}

}  // namespace cairn

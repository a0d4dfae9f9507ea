// scripts/bench/exchange_new.cpp — bench_exchange over comm/reduce.h's any-W reduce-scatter
// (see exchange_bench.cpp): the trainer's call, with the rank's subtrees' partials.
#include <vector>

#include "comm/reduce.h"

namespace cairn {

bool bench_supports(int G, int W) { return W <= G; }
int bench_partials(int G, int W, int rank) { return split_tree(G, W).parts(rank); }
int64_t bench_scratch_floats(int64_t total, int G, int W) {
  return reduce_scatter_scratch_floats(total, split_tree(G, W));
}
int64_t bench_sent_floats(int64_t total, int G, int W, int rank) {
  return W == 1 ? 0 : reduce_scatter_sent_floats(total, split_tree(G, W), rank);
}
void bench_exchange(Comm& comm, const float* block, int64_t total, int G, float* scratch) {
  const TreeSplit split = split_tree(G, comm.size());
  const std::vector<const float*> partials(size_t(split.parts(comm.rank())), block);
  reduce_scatter_canonical(comm, cpu_ops(), split, partials, total, scratch, scratch);
}

}  // namespace cairn

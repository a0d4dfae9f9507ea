// scripts/bench/bench_ops.cpp — the op test registry in timing mode: for every case of
// tests/kernels/op_cases.cpp, the median time of one call on the CPU table and, when a GPU is
// visible, on the CUDA table. Built by scripts/bench/ops.sh (target bench_ops).
//
// Usage: bench_ops [REPS=7] [FILTER]   (FILTER: a substring of the case names to keep)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "op_registry.h"

int main(int argc, char** argv) {
  using namespace cairn;
  using namespace cairn::test;
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  const std::string filter = argc > 2 ? argv[2] : "";
  const bool gpu = cuda_is_available();
  std::printf("%-62s %12s %12s\n", "case", "cpu ms", gpu ? "cuda ms" : "(no cuda)");
  for (const OpCase& c : op_cases()) {
    if (!filter.empty() && c.name().find(filter) == std::string::npos) continue;
    const double cpu = median_op_seconds(cpu_ops(), c, reps);
    if (gpu)
      std::printf("%-62s %12.4f %12.4f\n", c.name().c_str(), cpu * 1e3, median_op_seconds(cuda_ops(), c, reps) * 1e3);
    else
      std::printf("%-62s %12.4f\n", c.name().c_str(), cpu * 1e3);
  }
  return 0;
}

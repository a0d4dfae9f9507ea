// scripts/bench/exchange_bench.cpp — the gradient exchange (the canonical reduce-scatter) of
// GPT-2 124M's flat gradient, alone, as the trainer calls it: every rank holds its partial
// sums, the exchange leaves its owned slice of the tree sum in the scratch's first slice.
// Run under mpirun, one process per rank:
//   mpirun -np W bench_exchange [G] [iterations]      (defaults: G = 24, 5 iterations)
// Prints one line: W, G, partials per rank, floats sent by the busiest rank, and the time of
// each iteration (the slowest rank's, after a barrier), then the median.
// The exchange comes from exchange_new.cpp (any W <= G) or exchange_old.cpp (the commit
// before it: one partial per rank, powers of two dividing G): scripts/bench/exchange.sh
// builds both and runs them alternately. A rank with several partials sends the same block
// buffer for each (the bytes on the wire are those of distinct partials; 124M floats are far
// beyond any cache), so memory is one block plus the scratch per rank.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "comm/comm.h"
#include "models/gpt/gpt.h"

namespace cairn {
// Provided by exchange_new.cpp or exchange_old.cpp.
bool bench_supports(int G, int W);
int bench_partials(int G, int W, int rank);
int64_t bench_scratch_floats(int64_t total, int G, int W);
int64_t bench_sent_floats(int64_t total, int G, int W, int rank);
void bench_exchange(Comm& comm, const float* block, int64_t total, int G, float* scratch);
}  // namespace cairn

namespace {

int64_t mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn;
  std::unique_ptr<Comm> comm = make_default_comm(&argc, &argv);
  const int W = comm->size(), rank = comm->rank();
  const int G = argc > 1 ? std::atoi(argv[1]) : 24;
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 5;
  const int64_t total = gpt::build_layout({12, 12, 768, 1024, 50257, 0.0f}).total;  // configs/gpt2-124m.toml
  if (!bench_supports(G, W)) {
    if (rank == 0) std::printf("W %d G %d: not supported by this build\n", W, G);
    mpi_finalize();
    return 0;
  }
  const int64_t scratch_floats = bench_scratch_floats(total, G, W);
  // Refuse to push a shared machine into swap or the OOM killer: every rank's block + scratch,
  // with 3 GB to spare.
  const int64_t need = int64_t(W) * (total + scratch_floats) * 4;
  int64_t ok = rank == 0 ? (mem_available_bytes() > need + (int64_t(3) << 30)) : 1;
  comm->broadcast(&ok, sizeof ok, 0);
  if (!ok) {
    if (rank == 0) std::printf("W %d G %d: skipped, needs %.1f GB and the machine has %.1f GB available\n", W, G,
                               double(need) / 1e9, double(mem_available_bytes()) / 1e9);
    mpi_finalize();
    return 0;
  }
  std::vector<float> block(static_cast<size_t>(total)), scratch(static_cast<size_t>(scratch_floats), 0.0f);
  for (int64_t i = 0; i < total; ++i) block[size_t(i)] = float((i * 7 + rank) % 1000) * 1e-3f;

  int most_parts = 0;
  int64_t most_sent = 0;
  for (int r = 0; r < W; ++r) {
    most_parts = std::max(most_parts, bench_partials(G, W, r));
    most_sent = std::max(most_sent, bench_sent_floats(total, G, W, r));
  }
  std::vector<double> ms;
  for (int it = 0; it <= iterations; ++it) {  // iteration 0 warms up (first touch, MPI buffers)
    comm->barrier();
    const auto t0 = std::chrono::steady_clock::now();
    bench_exchange(*comm, block.data(), total, G, scratch.data());
    const auto t1 = std::chrono::steady_clock::now();
    const int64_t us = comm->max_int(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
    if (it > 0) ms.push_back(double(us) / 1e3);
  }
  if (rank == 0) {
    std::string each;
    for (double m : ms) each += " " + std::to_string(int(m + 0.5));
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    std::printf("W %d G %d: %lld floats, partials per rank <= %d, busiest rank sends %.1f MB; ms per exchange:%s; "
                "median %.0f\n",
                W, G, static_cast<long long>(total), most_parts, double(most_sent) * 4 / 1e6, each.c_str(), median);
  }
  mpi_finalize();
  return 0;
}

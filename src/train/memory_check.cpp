// train/memory_check.cpp — see memory_check.h.
#include "train/memory_check.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "comm/reduce.h"
#include "comm/tree_split.h"
#include "core/error.h"
#include "core/sharding.h"
#include "models/model.h"

namespace cairn {
namespace {

// "1.23 GiB", or "12.3 MiB" below a GiB.
std::string gib(int64_t bytes) {
  char s[32];
  if (bytes < (int64_t(1) << 30))
    std::snprintf(s, sizeof s, "%.1f MiB", double(bytes) / 1048576.0);
  else
    std::snprintf(s, sizeof s, "%.2f GiB", double(bytes) / 1073741824.0);
  return s;
}

// A number from a one-line cgroup file; -1 for "max", a missing file or garbage.
int64_t read_cgroup_value(const std::string& path) {
  std::ifstream f(path);
  std::string v;
  if (!(f >> v) || v == "max") return -1;
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  return end && *end == '\0' && x >= 0 ? int64_t(x) : -1;
}

}  // namespace

std::string MemoryEstimate::describe() const {
  return str("parameters ", gib(params), " + gradients ", gib(gradients), " + AdamW state ", gib(optimizer),
             " + activations ", gib(activations), " + checkpoint staging ", gib(staging), " = ", gib(total()));
}

MemoryEstimate estimate_rank_memory(const Config& cfg, int world, int rank) {
  const int64_t total = models::build_layout(cfg.model).total;
  const int64_t owned = owned_range(total, rank, world).size();
  const int64_t f = int64_t(sizeof(float));
  MemoryEstimate e;
  e.on_device = cfg.run.device == "cuda";
  e.params = total * f;
  // As Trainer::setup: one partial per subtree of the rank's block, the tree levels the
  // largest needs below its root, and the reduce-scatter scratch at W > 1.
  const TreeSplit split = split_tree(cfg.train.grad_accum, world);
  int levels = 1;
  for (int i = split.first_node[rank]; i < split.first_node[rank + 1]; ++i)
    levels = std::max(levels, tree_levels(split.nodes[size_t(i)].size()));
  e.gradients = int64_t(split.parts(rank) + levels - 1) * total * f;
  if (world > 1) e.gradients += reduce_scatter_scratch_floats(total, split) * f;
  e.optimizer = 2 * owned * f;
  e.activations = int64_t(models::activation_bytes(cfg.model, cfg.train.micro_batch, cfg.model.seq_len));
  // An async save's snapshot of params, m and v (owned slices) or, at a fresh start, the
  // host initialisation buffer: whichever is larger (never both at once).
  e.staging = std::max(3 * owned * f, total * f);
  return e;
}

AvailableMemory available_host_memory() {
  AvailableMemory a;
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %lld kB", &kb) == 1) {
      a.bytes = int64_t(kb) * 1024;
      a.source = "MemAvailable";
    }
  }
  // cgroup v2, then v1: a job limit below what the node has free is what counts.
  int64_t limit = read_cgroup_value("/sys/fs/cgroup/memory.max");
  int64_t used = read_cgroup_value("/sys/fs/cgroup/memory.current");
  if (limit < 0) {
    limit = read_cgroup_value("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    used = read_cgroup_value("/sys/fs/cgroup/memory/memory.usage_in_bytes");
  }
  if (limit >= 0 && limit < (int64_t(1) << 60)) {
    const int64_t room = std::max<int64_t>(0, limit - std::max<int64_t>(0, used));
    if (a.bytes < 0 || room < a.bytes) {
      a.bytes = room;
      a.source = "cgroup memory limit";
    }
  }
  return a;
}

int local_ranks() {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  return local ? std::max(1, std::atoi(local)) : 1;
}

std::string check_rank_memory(const Config& cfg, int world, int rank) {
  const MemoryEstimate e = estimate_rank_memory(cfg, world, rank);
  const AvailableMemory a = available_host_memory();
  const int ranks = local_ranks();
  std::string line = str("memory per rank: ", e.describe());
  if (e.on_device) line += str(" (GPU memory but the staging's ", gib(e.host()), " of pinned host memory)");
  if (a.bytes >= 0) line += str("; host memory available: ", gib(a.bytes), " (", a.source, ") for ", ranks, " rank(s)");
  if (a.bytes >= 0 && e.host() > a.bytes / ranks)
    CAIRN_FAIL("this run does not fit in memory: each of the ", ranks, " rank(s) on this node needs ", e.describe(),
               e.on_device ? " (all but the staging on the GPU)" : "", ", and the node has ", gib(a.bytes),
               " available (", a.source,
               "); reduce train.micro_batch or model.seq_len (activations), use a smaller model, or spread the "
               "ranks over more nodes");
  return line;
}

}  // namespace cairn

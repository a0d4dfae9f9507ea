// train/memory_check.h — what one rank's training needs in memory, against what the node
// has, checked before anything is allocated or the run directory is touched (issue 13: a
// model or batch that cannot fit used to die of std::bad_alloc after creating the run dir).
//
// The estimate adds up the buffers the trainer allocates for a rank (trainer.cpp setup and
// fresh_start, the model family's activations, the checkpoint savers): the full parameter replica, the
// gradient partials and tree levels plus the reduce-scatter scratch (W > 1), AdamW m and v over
// the owned slice (ZeRO-1), the model's activations for one micro-batch, and the checkpoint
// staging (an async save's snapshot of the owned params/m/v; at a fresh start the
// initialisation buffer, a second parameter replica, is held at the same time instead).
// Where those buffers live depends on run.device: on cpu all of it is host memory; on cuda
// only the staging is, and the rest is GPU memory (logged, not checked here).
//
// Available host memory: MemAvailable of /proc/meminfo, or the cgroup's memory.max minus
// its memory.current when that is lower (a container or SLURM job limit), shared by the
// node's ranks (OMPI_COMM_WORLD_LOCAL_SIZE).
#pragma once

#include <cstdint>
#include <string>

#include "train/config.h"

namespace cairn {

struct MemoryEstimate {
  int64_t params = 0, gradients = 0, optimizer = 0, activations = 0, staging = 0;
  bool on_device = false;  // run.device = cuda: all but staging is GPU memory
  int64_t total() const { return params + gradients + optimizer + activations + staging; }
  int64_t host() const { return on_device ? staging : total(); }
  // "parameters 0.5 GiB + gradients ... = 3.1 GiB"
  std::string describe() const;
};

MemoryEstimate estimate_rank_memory(const Config& cfg, int world, int rank);

struct AvailableMemory {
  int64_t bytes = -1;  // -1: unknown (no /proc/meminfo): the check is skipped
  std::string source;  // "MemAvailable" or "cgroup memory.max"
};
AvailableMemory available_host_memory();

// Ranks of this job on this node (OMPI_COMM_WORLD_LOCAL_SIZE, else 1).
int local_ranks();

// One line for the start-up log; throws cairn::Error (one line: what is needed per rank and
// by whom, what is available, what to change) when the node's ranks cannot fit.
std::string check_rank_memory(const Config& cfg, int world, int rank);

}  // namespace cairn

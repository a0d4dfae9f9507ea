// kernels/profile.h — per-op timing of a KernelOps table (run.profile).
//
// profiled_ops(base) returns a copy of `base` whose kernel and memory entries time each call
// (wall clock on the calling thread; on a GPU after a device synchronize, so the time is the
// op's own). The trainer uses it when run.profile = true and prints op_profile_report()
// at the end: where a step's time goes, op by op. Timing costs a clock read per call (and a
// synchronize per call on cuda), so it is off by default. One profiled table per process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace cairn {

const KernelOps& profiled_ops(const KernelOps& base);

struct OpTime {
  std::string op;
  int64_t calls = 0;
  double seconds = 0;
};
// Accumulated times since the last reset, largest first (ops never called are left out).
std::vector<OpTime> op_profile();
void reset_op_profile();

}  // namespace cairn

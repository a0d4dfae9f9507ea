// checkpoint/snapshot.h — the copy of a rank's live owned slices (params, adam_m, adam_v)
// into host staging that a checkpoint writes from, for any device.
//
// The slices live on the device of a KernelOps: host memory on the CPU, GPU memory on cuda.
// The copies go through the table: ops.download_async into staging from ops.alloc_host
// (pinned on cuda: a cudaMemcpyAsync on a side stream that starts after the queued updates),
// then ops.download_wait. On the CPU that is exactly the memcpy of a plain snapshot. So the
// asynchronous saver (checkpoint/async_save.h) and a synchronous save from the GPU share
// this one piece of code, and what reaches the writer is the same floats on every device.
//
// Staging is allocated at the first copy and reused while the slice sizes stay the same:
// memory is bounded by one extra copy of the slices this rank owns.
#pragma once

#include <cstdint>
#include <vector>

#include "checkpoint/state.h"
#include "kernels/ops.h"

namespace cairn::ckpt {

class SnapshotStaging {
 public:
  explicit SnapshotStaging(const KernelOps& ops = cpu_ops()) : ops_(&ops) {}

  // Queues copies of `live` (data on the ops' device) into staging and returns the same
  // slices with data pointing at staging; their contents are complete once wait() returns.
  // `live` must not be modified before then.
  std::vector<OwnedSlice> copy(const std::vector<OwnedSlice>& live);
  // Blocks until every copy queued so far has landed (ops.download_wait).
  void wait();
  // Bytes of staging held (0 before the first copy).
  int64_t bytes() const;
  const KernelOps& ops() const { return *ops_; }

 private:
  const KernelOps* ops_;
  std::vector<HostBuffer<float>> staging_;
};

// `live` as host memory a writer can read now: the slices themselves where the device's
// memory is the host's (ops.host_visible: no copy, no staging), else copied into `staging`
// and waited for (the device is staging.ops()'s). For synchronous saves, whose writer runs
// before the next update.
std::vector<OwnedSlice> host_readable(const std::vector<OwnedSlice>& live, SnapshotStaging& staging);

}  // namespace cairn::ckpt

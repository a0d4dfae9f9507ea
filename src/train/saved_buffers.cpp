// train/saved_buffers.cpp — see saved_buffers.h.
#include "train/saved_buffers.h"

#include "checkpoint/tools.h"
#include "core/progress.h"

namespace cairn {

SavedBuffers saved_buffers(DeviceBuffer<float>& params, optim::AdamW& optimizer) {
  const Range owned = optimizer.owned();
  return {owned, {{"params", params.data() + owned.begin}, {"adam_m", optimizer.m()}, {"adam_v", optimizer.v()}}};
}

std::vector<ckpt::OwnedSlice> live_slices(const SavedBuffers& buffers) {
  std::vector<ckpt::OwnedSlice> out;
  for (const SavedBuffer& b : buffers.list) out.push_back({b.name, b.owned, buffers.owned.begin, buffers.owned.end});
  return out;
}

void read_saved_buffers(const ckpt::Checkpoint& ck, const SavedBuffers& buffers, const KernelOps& ops, bool verify) {
  const Range owned = buffers.owned;
  // Checkpoints are device-independent: one saved on either device resumes on either.
  Progress loading("resume: reading " + ck.dir, int64_t(buffers.list.size()) * owned.size() * int64_t(sizeof(float)),
                   Progress::kBytes);
  std::vector<float> host(ops.host_visible ? 0 : size_t(owned.size()));
  for (const SavedBuffer& b : buffers.list) {
    float* into = ops.host_visible ? b.owned : host.data();
    ckpt::read_flat_range(ck, b.name, owned.begin, owned.end, into, &loading);
    if (into != b.owned) ops.upload(b.owned, into, sizeof(float) * size_t(owned.size()));
  }
  loading.done();
  if (verify)
    for (const SavedBuffer& b : buffers.list) ckpt::verify_partial_pieces(ck, b.name, owned.begin, owned.end);
}

}  // namespace cairn

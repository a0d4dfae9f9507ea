// checkpoint/snapshot.cpp — SnapshotStaging (see snapshot.h).
#include "checkpoint/snapshot.h"

namespace cairn::ckpt {

std::vector<OwnedSlice> SnapshotStaging::copy(const std::vector<OwnedSlice>& live) {
  staging_.resize(live.size());
  std::vector<OwnedSlice> staged = live;
  for (size_t i = 0; i < live.size(); ++i) {
    const int64_t n = live[i].end - live[i].begin;
    if (int64_t(staging_[i].size()) != n) staging_[i] = HostBuffer<float>(*ops_, size_t(n));
    if (n > 0) ops_->download_async(staging_[i].data(), live[i].data, sizeof(float) * size_t(n));
    staged[i].data = staging_[i].data();
  }
  return staged;
}

void SnapshotStaging::wait() { ops_->download_wait(); }

int64_t SnapshotStaging::bytes() const {
  int64_t floats = 0;
  for (const HostBuffer<float>& b : staging_) floats += int64_t(b.size());
  return floats * int64_t(sizeof(float));
}

std::vector<OwnedSlice> host_readable(const std::vector<OwnedSlice>& live, SnapshotStaging& staging) {
  if (staging.ops().host_visible) return live;
  std::vector<OwnedSlice> staged = staging.copy(live);
  staging.wait();
  return staged;
}

}  // namespace cairn::ckpt

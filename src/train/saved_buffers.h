// train/saved_buffers.h — the one list of flat buffers a checkpoint holds, used by save and
// resume alike.
//
// saved_buffers() is the list: params, then AdamW m and v (DESIGN §3), each as this rank's
// owned slice on the training device. The checkpointer saves exactly the listed slices
// (live_slices), resume reads exactly them back (read_saved_buffers) and `cairn train
// --dump-final` writes them in full (Trainer::dump_final), so a buffer added
// to the list is saved and restored with no other change, and nothing can be saved that is
// not restored (tests/train/saved_buffers_test.cpp saves, overwrites and resumes every
// listed buffer). The list's order is the save order, which the logical hash covers
// (checkpoint/logical_hash.h): changing the list changes every checkpoint's hash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/reader.h"
#include "checkpoint/state.h"
#include "core/sharding.h"
#include "kernels/ops.h"
#include "optim/adamw.h"

namespace cairn {

struct SavedBuffer {
  std::string name;  // the checkpoint's buffer name
  float* owned;      // owned[i] is element owned_range.begin + i, on the training device
};

struct SavedBuffers {
  Range owned;  // this rank's range of every buffer (ZeRO-1)
  std::vector<SavedBuffer> list;
  // Bytes of every listed buffer in full (all ranks together), `total` floats each.
  int64_t full_bytes(int64_t total) const { return int64_t(list.size()) * total * int64_t(sizeof(float)); }
};

// `params`: the full flat parameter buffer (identical on every rank); the optimizer holds
// the moments of the owned range.
SavedBuffers saved_buffers(DeviceBuffer<float>& params, optim::AdamW& optimizer);

// The listed slices as the checkpoint writer takes them (data on the training device).
std::vector<ckpt::OwnedSlice> live_slices(const SavedBuffers& buffers);

// Collective-free: reads every listed buffer's owned range from `ck` (resharding where the
// checkpoint's world size differs) into the slices on `ops`'s device — straight into them
// where that memory is the host's, else through one host buffer, uploaded — and with
// `verify` also checks the checksums of pieces the owned range cuts (ck.verify_reads checks
// the whole ones). Throws cairn::Error (or std::exception from I/O) on damage; the slices
// may then be partly overwritten.
void read_saved_buffers(const ckpt::Checkpoint& ck, const SavedBuffers& buffers, const KernelOps& ops, bool verify);

}  // namespace cairn

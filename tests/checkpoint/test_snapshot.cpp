// tests/checkpoint/test_snapshot.cpp — checkpoint snapshots are one piece of code for every
// device (checkpoint/snapshot.h): the copy into staging goes through the KernelOps the live
// slices belong to. Checked on the CPU with the shadow device (tests/shadow_device.h: memory
// the host cannot dereference, copies that land only at download_wait): staging is filled
// through the table and only after the wait, a synchronous save reads host slices in place,
// and an AsyncSaver over device slices writes shards byte-identical to a synchronous save
// of the same floats from host memory, isolated from updates after its snapshot.
#include <gtest/gtest.h>

#include <cstring>

#include "checkpoint/async_save.h"
#include "checkpoint/snapshot.h"
#include "ckpt_test_util.h"
#include "shadow_device.h"

namespace cairn::ckpt::test {
namespace {

using cairn::test::shadow_ops;
using cairn::test::shadow_stats;

// TestModel's owned slices of rank r of W, uploaded to the shadow device.
struct DeviceSlices {
  std::vector<DeviceBuffer<float>> buffers;
  std::vector<OwnedSlice> slices;
  DeviceSlices(const TestModel& m, int rank, int world) {
    for (const OwnedSlice& s : m.slices(rank, world)) {
      const size_t n = size_t(s.end - s.begin);
      buffers.emplace_back(shadow_ops(), n);
      buffers.back().upload(s.data, n);
      slices.push_back({s.buffer, buffers.back().data(), s.begin, s.end});
    }
  }
};

std::string shard_bytes(const std::string& dir, int rank, int world) {
  return read_text(dir + "/" + shard_file_name(rank, world));
}

TEST(Snapshot, CopiesThroughTheTableAndLandAtTheWait) {
  TestModel m;
  DeviceSlices dev(m, 0, 1);
  shadow_stats().reset();
  SnapshotStaging staging(shadow_ops());
  std::vector<OwnedSlice> staged = staging.copy(dev.slices);
  ASSERT_EQ(staged.size(), 3u);
  EXPECT_EQ(shadow_stats().async_copies.load(), 3);
  for (const OwnedSlice& s : staged) EXPECT_EQ(s.data[0], 0.0f) << s.buffer << ": copied before the wait";
  staging.wait();
  for (size_t i = 0; i < staged.size(); ++i) {
    EXPECT_EQ(staged[i].buffer, dev.slices[i].buffer);
    EXPECT_EQ(staged[i].begin, dev.slices[i].begin);
    EXPECT_EQ(0, std::memcmp(staged[i].data, m.buffer(staged[i].buffer).data(), 4 * size_t(m.layout.total)))
        << staged[i].buffer;
  }
  const float* first = staged[0].data;
  EXPECT_EQ(staging.copy(dev.slices)[0].data, first) << "staging is reused";
  staging.wait();
  EXPECT_EQ(staging.bytes(), 3 * 4 * m.layout.total);
}

TEST(Snapshot, HostReadableIsInPlaceOnTheCpuAndACopyElsewhere) {
  TestModel m;
  SnapshotStaging cpu_staging;  // cpu_ops()
  const std::vector<OwnedSlice> live = m.slices(0, 1);
  const std::vector<OwnedSlice> same = host_readable(live, cpu_staging);
  for (size_t i = 0; i < live.size(); ++i) EXPECT_EQ(same[i].data, live[i].data);
  EXPECT_EQ(cpu_staging.bytes(), 0) << "no staging for host memory";

  DeviceSlices dev(m, 0, 1);
  SnapshotStaging staging(shadow_ops());
  const std::vector<OwnedSlice> host = host_readable(dev.slices, staging);
  for (const OwnedSlice& s : host)
    EXPECT_EQ(0, std::memcmp(s.data, m.buffer(s.buffer).data(), 4 * size_t(m.layout.total))) << s.buffer;
}

TEST(Snapshot, AsyncSaveFromTheDeviceIsByteIdenticalToAHostSave) {
  for (int world : {1, 2}) {
    TempDir host_run, dev_run;
    TestModel m;
    run_ranks(world, [&](Comm& comm) {
      const int r = comm.rank();
      SaveStats s = save_checkpoint(comm, host_run.path, 6, m.layout, m.slices(r, world), TestModel::state(6), keep(2));
      ASSERT_TRUE(s.ok) << s.error;

      DeviceSlices dev(m, r, world);
      AsyncSaver saver(shadow_ops());
      ASSERT_EQ(saver.start(comm, dev_run.path, 6, m.layout, dev.slices, TestModel::state(6), keep(2)), "");
      saver.wait_snapshot();
      // The next "optimizer update" on the device, after the snapshot: not in the checkpoint.
      std::vector<float> ones(dev.buffers[0].size(), 1.0f);
      dev.buffers[0].upload(ones.data(), ones.size());
      std::optional<SaveResult> a = saver.finish(comm);
      ASSERT_TRUE(a && a->commit.ok) << (a ? a->commit.error : "nothing pending");
      EXPECT_EQ(a->commit.logical_hash, s.logical_hash);
    });
    for (int r = 0; r < world; ++r)
      EXPECT_EQ(shard_bytes(dev_run / "checkpoints/step_00000006", r, world),
                shard_bytes(host_run / "checkpoints/step_00000006", r, world))
          << "rank " << r << " of " << world;
  }
}

// A synchronous save of device slices goes through host_readable: the same files again.
TEST(Snapshot, SyncSaveOfDeviceSlicesMatchesAHostSave) {
  TempDir host_run, dev_run;
  TestModel m;
  auto comm = make_local_comm();
  SaveStats want = save_checkpoint(*comm, host_run.path, 3, m.layout, m.slices(0, 1), TestModel::state(3), keep(2));
  ASSERT_TRUE(want.ok) << want.error;
  DeviceSlices dev(m, 0, 1);
  SnapshotStaging staging(shadow_ops());
  SaveStats got = save_checkpoint(*comm, dev_run.path, 3, m.layout, host_readable(dev.slices, staging),
                                  TestModel::state(3), keep(2));
  ASSERT_TRUE(got.ok) << got.error;
  EXPECT_EQ(got.logical_hash, want.logical_hash);
  EXPECT_EQ(shard_bytes(dev_run / "checkpoints/step_00000003", 0, 1),
            shard_bytes(host_run / "checkpoints/step_00000003", 0, 1));
}

}  // namespace
}  // namespace cairn::ckpt::test

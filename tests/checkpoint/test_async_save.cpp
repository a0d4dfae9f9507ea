// tests/checkpoint/test_async_save.cpp — AsyncSaver: byte-identical shards to a synchronous
// save (W = 1 and W = 3 as threads), the snapshot isolates the save from later updates,
// poll() commits only once the writer is done, never two saves in flight, and a failing
// background write fails the vote and leaves earlier checkpoints intact.
// Run under -DCAIRN_SANITIZE=thread (OMP_NUM_THREADS=1) to check the writer thread.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "checkpoint/async_save.h"
#include "checkpoint/run_dir.h"
#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

std::string shard_bytes(const std::string& dir, int rank, int world) {
  return read_text(dir + "/" + shard_file_name(rank, world));
}

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* v) : name(n) { ::setenv(n, v, 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

TEST(AsyncSave, ShardsAreByteIdenticalToASynchronousSave) {
  for (int world : {1, 3}) {
    TempDir sync_run, async_run;
    TestModel m;
    std::vector<std::string> sync_hash(static_cast<size_t>(world)), async_hash(static_cast<size_t>(world));
    run_ranks(world, [&](Comm& comm) {
      const int r = comm.rank();
      SaveStats s = save_checkpoint(comm, sync_run.path, 4, m.layout, m.slices(r, world), TestModel::state(4), keep(2));
      ASSERT_TRUE(s.ok) << s.error;
      sync_hash[size_t(r)] = s.logical_hash;

      AsyncSaver saver;
      ASSERT_EQ(saver.start(comm, async_run.path, 4, m.layout, m.slices(r, world), TestModel::state(4), keep(2)), "");
      EXPECT_TRUE(saver.pending());
      saver.wait_snapshot();
      std::optional<SaveResult> a = saver.finish(comm);
      ASSERT_TRUE(a.has_value());
      ASSERT_TRUE(a->commit.ok) << a->commit.error;
      EXPECT_FALSE(saver.pending());
      EXPECT_EQ(saver.staging_bytes(), 3 * int64_t(sizeof(float)) * owned_range(m.layout.total, r, world).size());
      async_hash[size_t(r)] = a->commit.logical_hash;
    });
    const std::string a = async_run / "checkpoints/step_00000004", s = sync_run / "checkpoints/step_00000004";
    for (int r = 0; r < world; ++r) {
      EXPECT_EQ(shard_bytes(a, r, world), shard_bytes(s, r, world)) << "rank " << r << " of " << world;
      EXPECT_EQ(async_hash[size_t(r)], sync_hash[size_t(r)]);
    }
    EXPECT_EQ(read_text(async_run / "checkpoints/latest"), "step_00000004\n");
  }
}

TEST(AsyncSave, SnapshotIsolatesTheSaveFromLaterUpdates) {
  TempDir run;
  TestModel m, before;
  auto comm = make_local_comm();
  AsyncSaver saver;
  ASSERT_EQ(saver.start(*comm, run.path, 2, m.layout, m.slices(0, 1), TestModel::state(2), keep(2)), "");
  saver.wait_snapshot();
  for (float& x : m.params) x += 1.0f;  // the "optimizer update" after the snapshot
  for (float& x : m.adam_v) x = 0.0f;
  std::optional<SaveResult> r = saver.finish(*comm);
  ASSERT_TRUE(r && r->commit.ok);
  Checkpoint c = open_checkpoint(r->commit.dir, true);
  for (const char* b : {"params", "adam_m", "adam_v"}) {
    std::vector<float> got(size_t(m.layout.total));
    read_flat_range(c, b, 0, m.layout.total, got.data());
    EXPECT_EQ(0, std::memcmp(got.data(), before.buffer(b).data(), got.size() * 4)) << b;
  }
  EXPECT_GE(r->snapshot_seconds, 0);
  EXPECT_GE(r->wall_seconds, r->commit_seconds);
}

TEST(AsyncSave, PollCommitsOnlyAfterTheWriterIsDoneAndNeverTwoInFlight) {
  TempDir run, gate;
  TestModel m;
  // Both writers wait before writing until the test creates `release`: no timing involved.
  const std::string release = gate / "release";
  ScopedEnv delay("CAIRN_DELAY_AT", ("ckpt.async.write@6=" + release).c_str());
  run_ranks(2, [&](Comm& comm) {
    AsyncSaver saver;
    const auto slices = m.slices(comm.rank(), 2);
    ASSERT_EQ(saver.start(comm, run.path, 6, m.layout, slices, TestModel::state(6), keep(2)), "");
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(saver.poll(comm).has_value()) << "poll " << i;
    EXPECT_TRUE(saver.pending());
    EXPECT_TRUE(is_dir(run / "checkpoints/step_00000006.tmp"));
    EXPECT_FALSE(is_dir(run / "checkpoints/step_00000006"));
    EXPECT_ERROR_WITH(saver.start(comm, run.path, 7, m.layout, slices, TestModel::state(7), keep(2)),
                      "a save of step 6 is still in flight");
    comm.all_agree(true);  // both ranks have polled while held
    if (comm.rank() == 0) write_text(release, "");
    std::optional<SaveResult> r;
    while (!(r = saver.poll(comm))) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(r->commit.ok) << r->commit.error;
    EXPECT_EQ(r->step, 6);
    EXPECT_FALSE(saver.pending());
    EXPECT_FALSE(saver.poll(comm).has_value());
    EXPECT_FALSE(saver.finish(comm).has_value());
  });
  EXPECT_EQ(open_checkpoint(run / "checkpoints/step_00000006", true).step(), 6);
}

TEST(AsyncSave, FailedBackgroundWriteFailsTheVoteAndKeepsEarlierCheckpoints) {
  TempDir run;
  TestModel m;
  auto comm = make_local_comm();
  ASSERT_TRUE(save_checkpoint(*comm, run.path, 1, m.layout, m.slices(0, 1), TestModel::state(1), keep(2)).ok);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // a child, so the file size limit binds only here
    ::close(fds[0]);
    ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing us
    struct rlimit lim {64 * 1024, 64 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(77);
    auto c = make_local_comm();
    AsyncSaver saver;
    std::string msg = saver.start(*c, run.path, 2, m.layout, m.slices(0, 1), TestModel::state(2), keep(2));
    if (msg.empty()) {
      std::optional<SaveResult> r = saver.finish(*c);
      msg = !r ? "nothing pending" : r->commit.ok ? "unexpectedly committed" : r->commit.error;
    }
    ssize_t ignored = ::write(fds[1], msg.data(), msg.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string error;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) error.append(buf, size_t(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) GTEST_SKIP() << "setrlimit(RLIMIT_FSIZE) not permitted";
  EXPECT_NE(error.find("checkpoint step 2 not saved: "), std::string::npos) << error;
  EXPECT_NE(error.find("step_00000002.tmp/rank_00000-of-00001.safetensors.partial: write failed: File too large"),
            std::string::npos)
      << error;
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000002.tmp"));
  EXPECT_EQ(read_text(run / "checkpoints/latest"), "step_00000001\n");
  EXPECT_EQ(open_checkpoint(run / "checkpoints/step_00000001", true).step(), 1);
}

}  // namespace
}  // namespace cairn::ckpt::test

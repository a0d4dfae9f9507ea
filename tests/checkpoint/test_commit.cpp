// tests/checkpoint/test_commit.cpp — the commit protocol: save/open/read round trip, W-rank
// saves as threads, the failure vote, `latest`, retention, stale directories, replacing a
// step, and failing saves (read-only directory, full disk) that leave earlier checkpoints
// intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "checkpoint/manifest.h"
#include "checkpoint/run_dir.h"
#include "ckpt_test_util.h"
#include "comm/gather.h"
#include "core/parallel.h"

namespace cairn::ckpt::test {
namespace {

using nlohmann::json;

void expect_buffers_equal(const Checkpoint& c, const TestModel& m) {
  for (const char* b : {"params", "adam_m", "adam_v"}) {
    std::vector<float> got(size_t(m.layout.total));
    read_flat_range(c, b, 0, m.layout.total, got.data());
    EXPECT_EQ(0, std::memcmp(got.data(), m.buffer(b).data(), got.size() * 4)) << b;
  }
}

std::vector<int64_t> committed_steps(const std::string& run) {
  std::vector<int64_t> steps;
  for (const std::string& d : list_checkpoints(run)) steps.push_back(parse_step_dir_name(d.substr(d.rfind('/') + 1)));
  return steps;
}

TEST(Commit, SaveOpenReadRoundTrip) {
  TempDir run;
  TestModel m;
  auto comm = make_local_comm();
  SaveStats s = save_checkpoint(*comm, run.path, 7, m.layout, m.slices(0, 1), TestModel::state(7), keep(3));
  ASSERT_TRUE(s.ok) << s.error;
  EXPECT_EQ(s.dir, run / "checkpoints/step_00000007");
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000007.tmp"));
  EXPECT_EQ(read_text(run / "checkpoints/latest"), "step_00000007\n");
  EXPECT_EQ(read_latest(run.path).value(), s.dir);
  EXPECT_EQ(s.bytes, int64_t(std::filesystem::file_size(s.dir + "/rank_00000-of-00001.safetensors")));
  EXPECT_GT(s.seconds, 0);
  EXPECT_EQ(s.logical_hash.size(), 64u);

  Checkpoint c = open_checkpoint(s.dir, true);
  EXPECT_EQ(c.step(), 7);
  EXPECT_EQ(c.manifest.world_size, 1);
  EXPECT_EQ(c.manifest.buffers, (std::vector<std::string>{"params", "adam_m", "adam_v"}));
  EXPECT_EQ(c.layout().to_json(), m.layout.to_json());
  EXPECT_EQ(c.state(), TestModel::state(7));
  EXPECT_EQ(c.manifest.logical_hash, s.logical_hash);
  expect_buffers_equal(c, m);

  // Each shard is a plain safetensors file; pieces say which flat range they hold.
  SafetensorsFile f = SafetensorsFile::open(s.dir + "/rank_00000-of-00001.safetensors");
  EXPECT_EQ(f.metadata().at("format"), "cairn-shard");
  EXPECT_EQ(f.metadata().at("world_size"), "1");
  ASSERT_NE(f.find("params/wte.weight[0:9797]"), nullptr);
  ASSERT_NE(f.find("adam_v/__gap__@9797[0:3]"), nullptr);
  for (const TensorEntry& t : f.tensors())
    if (t.dtype == "F32") {
      EXPECT_EQ(t.file_offset % kSafetensorsAlign, 0) << t.name;
    }
}

// The writer's CPU time by phase reaches the commit's result (and so the save's log line),
// survives the record's trip through the gather, and counts zstd and XXH3-128 only when they
// run.
TEST(Commit, SaveCpuByPhaseIsMeasured) {
  TestModel m;
  for (const char* compress : {"none", "zstd"}) {
    TempDir dir;
    ShardOptions opt;
    opt.compress = compress;
    opt.incremental = std::string(compress) == "zstd";
    ShardRecord r = write_shard(dir.path, 0, 1, m.layout, m.slices(0, 1), opt);
    EXPECT_GT(r.cpu.checksums, 0) << compress;
    EXPECT_GT(r.cpu.digests, 0) << compress;
    EXPECT_GT(r.cpu.write, 0) << compress;
    EXPECT_EQ(r.cpu.encode > 0, opt.compress == "zstd") << compress;
    EXPECT_EQ(r.cpu.hash128 > 0, opt.incremental) << compress;
    const ShardRecord back = ShardRecord::deserialize(r.serialize());  // to the microsecond
    EXPECT_NEAR(back.cpu.total(), r.cpu.total(), 5e-6);
    EXPECT_NEAR(back.cpu.digests, r.cpu.digests, 1e-6);
  }
  TempDir run;
  auto comm = make_local_comm();
  SaveStats s = save_checkpoint(*comm, run.path, 3, m.layout, m.slices(0, 1), TestModel::state(3), keep(3));
  ASSERT_TRUE(s.ok) << s.error;
  EXPECT_GT(s.cpu.total(), 0);
  EXPECT_GT(s.cpu.digests, 0);
}

TEST(Commit, ThreadedWorldOfFourMatchesWorldOfOne) {
  TempDir run1, run4;
  TestModel m;
  auto comm = make_local_comm();
  SaveStats one = save_checkpoint(*comm, run1.path, 3, m.layout, m.slices(0, 1), TestModel::state(3), keep(2));
  ASSERT_TRUE(one.ok) << one.error;

  std::vector<SaveStats> results(4);
  run_ranks(4, [&](Comm& c) {
    results[size_t(c.rank())] =
        save_checkpoint(c, run4.path, 3, m.layout, m.slices(c.rank(), 4), TestModel::state(3), keep(2));
  });
  for (const SaveStats& r : results) {
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.dir, results[0].dir);
    EXPECT_EQ(r.bytes, results[0].bytes);
    EXPECT_EQ(r.logical_hash, one.logical_hash);
  }
  Checkpoint c = open_checkpoint(results[0].dir, true);
  EXPECT_EQ(c.manifest.world_size, 4);
  expect_buffers_equal(c, m);
  // No byte stored twice: the four shards together hold each buffer once (+ headers, padding).
  int64_t data = 0;
  for (const ManifestShard& s : c.manifest.shards)
    for (const PieceRecord& p : s.pieces) data += p.bytes();
  EXPECT_EQ(data, 3 * m.layout.total * 4);
}

TEST(Commit, OneFailingRankMeansNoCommitAnywhere) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 4, m).ok);
  std::vector<SaveStats> results(4);
  run_ranks(4, [&](Comm& c) {
    std::vector<OwnedSlice> slices = m.slices(c.rank(), 4);
    if (c.rank() == 2) slices[1].data = nullptr;  // this rank's write fails
    results[size_t(c.rank())] = save_checkpoint(c, run.path, 2, m.layout, slices, TestModel::state(2), keep(3));
  });
  for (const SaveStats& r : results) {
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("checkpoint step 2 not saved: rank 2: "), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("adam_m"), std::string::npos) << r.error;
  }
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000002.tmp"));
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000002"));
  EXPECT_EQ(read_text(run / "checkpoints/latest"), "step_00000001\n");
  expect_buffers_equal(open_checkpoint(run / "checkpoints/step_00000001", true), m);
}

TEST(Commit, GatherStringsAcrossThreadRanks) {
  run_ranks(4, [](Comm& c) {
    std::string mine = c.rank() == 1 ? std::string() : std::string(size_t(c.rank() * 5 + 1), char('a' + c.rank()));
    if (c.rank() == 3) mine[2] = '\0';
    std::vector<std::string> all = allgather_strings(c, mine);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0], "a");
    EXPECT_EQ(all[1], "");
    EXPECT_EQ(all[2], std::string(11, 'c'));
    EXPECT_EQ(all[3].size(), 16u);
    EXPECT_EQ(broadcast_string(c, c.rank() == 2 ? "from two" : "ignored", 2), "from two");
    EXPECT_EQ(broadcast_string(c, "", 0), "");
  });
}

TEST(Commit, CommitRecordsRejectsOverlappingRanks) {
  TempDir run;
  TestModel m;
  const std::string tmp = prepare_step_dir(run.path, 4);
  std::vector<ShardRecord> records = {write_shard(tmp, 0, 2, m.layout, m.slices(0, 2)),
                                      write_shard(tmp, 1, 2, m.layout, m.slices(0, 2))};  // rank 1 claims rank 0's range
  EXPECT_ERROR_WITH(commit_records(run.path, 4, m.layout, records, TestModel::state(4), keep(2)), "stored twice");
  EXPECT_FALSE(is_dir(tmp));
  EXPECT_TRUE(list_checkpoints(run.path).empty());
}

TEST(Commit, RetentionKeepsLastAndEveryMth) {
  TempDir run;
  TestModel m;
  for (int64_t step = 1; step <= 10; ++step) {
    CommitResult r = save_simulated(run.path, step, 2, m, keep(3, 4));
    ASSERT_TRUE(r.ok);
  }
  EXPECT_EQ(committed_steps(run.path), (std::vector<int64_t>{4, 8, 9, 10}));
  EXPECT_EQ(read_text(run / "checkpoints/latest"), "step_00000010\n");
  EXPECT_TRUE(cleanup_tmp(run.path).empty());  // retention leaves no *.old behind

  TempDir run2;
  for (int64_t step = 1; step <= 4; ++step) ASSERT_TRUE(save_simulated(run2.path, step, 1, m, keep(2)).ok);
  EXPECT_EQ(committed_steps(run2.path), (std::vector<int64_t>{3, 4}));
}

TEST(Commit, RetentionBelowTwoIsRefusedWithTheReason) {
  EXPECT_ERROR_WITH(validate_retention(keep(1)), "keep_last = 1 must be >= 2", "fall back to the previous one");
  EXPECT_ERROR_WITH(validate_retention(keep(3, -1)), "keep_every");
  TempDir run;
  TestModel m;
  auto comm = make_local_comm();
  EXPECT_ERROR_WITH(save_checkpoint(*comm, run.path, 1, m.layout, m.slices(0, 1), TestModel::state(1), keep(1)),
                    "must be >= 2");
}

TEST(Commit, StaleTmpAndOldDirectoriesAreCleanedAndIgnored) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 1, m).ok);
  for (const char* d : {"step_00000002.tmp", "step_00000003.tmp", "step_00000001.old"}) {
    const std::string dir = run / ("checkpoints/" + std::string(d));
    std::filesystem::create_directories(dir);
    write_text(dir + "/rank_00000-of-00001.safetensors.partial", "junk");
  }
  EXPECT_EQ(committed_steps(run.path), (std::vector<int64_t>{1}));
  // A new save of a step whose .tmp is stale replaces the stale directory.
  ASSERT_TRUE(save_simulated(run.path, 2, 1, m).ok);
  EXPECT_FALSE(is_file(run / "checkpoints/step_00000002/rank_00000-of-00001.safetensors.partial"));
  write_text(run / "checkpoints/latest.tmp", "step_0000");  // a crash while replacing `latest`

  std::vector<std::string> removed = cleanup_tmp(run.path);
  EXPECT_EQ(removed.size(), 3u);
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000003.tmp"));
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000001.old"));
  EXPECT_FALSE(is_file(run / "checkpoints/latest.tmp"));
  EXPECT_EQ(committed_steps(run.path), (std::vector<int64_t>{1, 2}));
}

TEST(Commit, SavingAnExistingStepReplacesIt) {
  TempDir run;
  TestModel a(1), b(2);
  ASSERT_TRUE(save_simulated(run.path, 5, 2, a).ok);
  CommitResult r = save_simulated(run.path, 5, 4, b);
  ASSERT_TRUE(r.ok);
  Checkpoint c = open_checkpoint(r.dir, true);
  EXPECT_EQ(c.manifest.world_size, 4);
  expect_buffers_equal(c, b);
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000005.old"));
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000005.tmp"));  // held the replaced one after the exchange
  EXPECT_FALSE(is_dir(run / ("checkpoints/step_00000005" + std::string(kReplacedSuffix))));
}

// Where the file system cannot exchange two names, a re-save renames the old checkpoint to
// step_N.replaced before renaming the new one into place: a crash between the two leaves
// only step_N.replaced, which start-up must rename back (never neither), and a crash after
// both leaves a step_N.replaced that start-up removes.
TEST(Commit, InterruptedReplaceIsRestoredAtStartUp) {
  TempDir run;
  TestModel a(1), b(2);
  ASSERT_TRUE(save_simulated(run.path, 5, 2, a).ok);
  const std::string committed = run / "checkpoints/step_00000005";
  const std::string replaced = committed + kReplacedSuffix;
  rename_path(committed, replaced);  // killed between the renames: neither is committed
  EXPECT_TRUE(committed_steps(run.path).empty());
  EXPECT_TRUE(cleanup_tmp(run.path).empty());
  ASSERT_EQ(committed_steps(run.path), (std::vector<int64_t>{5}));
  expect_buffers_equal(open_checkpoint(committed, true), a);

  ASSERT_TRUE(save_simulated(run.path, 5, 2, b).ok);
  std::filesystem::copy(committed, replaced, std::filesystem::copy_options::recursive);  // killed after both
  EXPECT_EQ(cleanup_tmp(run.path), (std::vector<std::string>{replaced}));
  expect_buffers_equal(open_checkpoint(committed, true), b);
}

// Runs `child` in a forked process (OpenMP limited to one thread: libgomp's pool does not
// survive fork) and returns its exit status and what it wrote to the pipe.
std::pair<int, std::string> in_child(const std::function<int(int fd)>& child) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    set_num_threads(1);
    std::_Exit(child(fds[1]));
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) out.append(buf, size_t(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

int report(int fd, const SaveStats& s) {
  std::string msg = s.ok ? "unexpectedly committed" : s.error;
  if (::write(fd, msg.data(), msg.size()) < 0) return 3;
  return s.ok ? 1 : 0;
}

TEST(Commit, ReadOnlyDirectoryGivesOneLineErrorAndKeepsEarlierCheckpoints) {
  TempDir run;
  TestModel m;
  auto comm = make_local_comm();
  ASSERT_TRUE(save_checkpoint(*comm, run.path, 1, m.layout, m.slices(0, 1), TestModel::state(1), keep(2)).ok);
  const std::string ckdir = run / "checkpoints";
  ASSERT_EQ(::chmod(run.path.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(ckdir.c_str(), 0555), 0);

  auto [status, error] = in_child([&](int fd) {
    // As root, chmod does not bind: drop to `nobody` where possible.
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 77;
    if (::access(ckdir.c_str(), W_OK) == 0) return 77;
    auto c = make_local_comm();
    return report(fd, save_checkpoint(*c, run.path, 2, m.layout, m.slices(0, 1), TestModel::state(2), keep(2)));
  });
  ::chmod(ckdir.c_str(), 0755);
  if (status == 77) GTEST_SKIP() << "cannot make a directory read-only for this user (root without setuid)";
  EXPECT_EQ(status, 0) << error;
  EXPECT_NE(error.find("step_00000002.tmp"), std::string::npos) << error;
  EXPECT_NE(error.find("Permission denied"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_EQ(committed_steps(run.path), (std::vector<int64_t>{1}));
  expect_buffers_equal(open_checkpoint(run / "checkpoints/step_00000001", true), m);
}

TEST(Commit, FullDiskGivesErrorNamingTheFileAndKeepsEarlierCheckpoints) {
  TempDir run;
  TestModel m;
  auto comm = make_local_comm();
  ASSERT_TRUE(save_checkpoint(*comm, run.path, 1, m.layout, m.slices(0, 1), TestModel::state(1), keep(2)).ok);

  auto [status, error] = in_child([&](int fd) {
    ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing us
    struct rlimit lim {64 * 1024, 64 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 77;
    auto c = make_local_comm();
    return report(fd, save_checkpoint(*c, run.path, 2, m.layout, m.slices(0, 1), TestModel::state(2), keep(2)));
  });
  if (status == 77) GTEST_SKIP() << "setrlimit(RLIMIT_FSIZE) not permitted";
  EXPECT_EQ(status, 0) << error;
  EXPECT_NE(error.find("checkpoints/step_00000002.tmp/rank_00000-of-00001.safetensors.partial: write failed: File too large"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_FALSE(is_dir(run / "checkpoints/step_00000002.tmp"));
  EXPECT_EQ(committed_steps(run.path), (std::vector<int64_t>{1}));
  EXPECT_EQ(read_text(run / "checkpoints/latest"), "step_00000001\n");
  expect_buffers_equal(open_checkpoint(run / "checkpoints/step_00000001", true), m);
}

}  // namespace
}  // namespace cairn::ckpt::test

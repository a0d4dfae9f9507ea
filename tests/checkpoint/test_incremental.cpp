// tests/checkpoint/test_incremental.cpp — checkpoint.incremental: a save writes only the
// pieces that changed since the previous checkpoint (the test counts the bytes) and refers
// to the rest; reads, verify and the logical hash follow references; references always
// point at the file holding the bytes (no chains); retention keeps what kept checkpoints
// refer to and removes the rest; missing targets and references that would leave
// checkpoints/ are refused with one line.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "checkpoint/manifest.h"
#include "checkpoint/tools.h"
#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

namespace fs = std::filesystem;

SaveStats save_incremental(const std::string& run, int64_t step, const TestModel& m, int keep_last = 2,
                           const std::string& compress = "none") {
  auto comm = make_local_comm();
  ShardOptions o{compress, true, previous_for_incremental(*comm, run, step)};
  SaveStats s = save_checkpoint(*comm, run, step, m.layout, m.slices(0, 1), TestModel::state(step), keep(keep_last), o);
  EXPECT_TRUE(s.ok) << s.error;
  return s;
}

void expect_reads(const std::string& dir, const TestModel& m) {
  Checkpoint c = open_checkpoint(dir, true);
  for (const char* b : {"params", "adam_m", "adam_v"}) {
    std::vector<float> got(size_t(m.layout.total));
    read_flat_range(c, b, 0, m.layout.total, got.data());
    EXPECT_EQ(0, std::memcmp(got.data(), m.buffer(b).data(), got.size() * 4)) << dir << " " << b;
  }
  std::ostringstream out;
  EXPECT_TRUE(verify_checkpoint(dir, out)) << out.str();
}

void bump(TestModel& m, const std::string& tensor) {
  for (const TensorInfo& t : m.layout.tensors)
    if (t.name == tensor)
      for (int64_t i = t.offset; i < t.offset + t.numel; ++i) m.params[size_t(i)] += 1.0f;
}

int64_t shard_size(const std::string& dir) { return int64_t(fs::file_size(dir + "/rank_00000-of-00001.safetensors")); }

std::vector<std::string> refs_of(const std::string& dir) {
  std::vector<std::string> out;
  const Manifest m = Manifest::read(dir + "/manifest.json");
  for (const PieceRecord& p : m.shards[0].pieces) out.push_back(p.ref);
  return out;
}

TEST(Incremental, WritesOnlyChangedPiecesAndReadsThroughReferences) {
  TempDir run, plain_run;
  TestModel m;
  SaveStats first = save_incremental(run.path, 1, m);
  EXPECT_EQ(first.referenced, 0);
  EXPECT_EQ(Manifest::read(first.dir + "/manifest.json").format_version, kFormatVersionLatest);  // nothing referenced yet

  bump(m, "h.0.attn.c_attn.weight");  // 97 x 91 floats, one piece of params
  SaveStats second = save_incremental(run.path, 2, m);
  EXPECT_EQ(second.referenced, second.pieces - 1);
  const int64_t piece_bytes = 97 * 91 * 4;
  EXPECT_EQ(second.bytes, shard_size(second.dir));
  EXPECT_GE(second.bytes, piece_bytes);
  EXPECT_LT(second.bytes, piece_bytes + 8192) << "more than the changed piece and a header was written";
  EXPECT_LT(second.bytes * 10, first.bytes);
  EXPECT_EQ(Manifest::read(second.dir + "/manifest.json").format_version, kFormatVersionLatest);
  expect_reads(second.dir, m);

  // The same state saved in full has the same logical hash.
  auto comm = make_local_comm();
  SaveStats full = save_checkpoint(*comm, plain_run.path, 2, m.layout, m.slices(0, 1), TestModel::state(2), keep(2));
  EXPECT_EQ(second.logical_hash, full.logical_hash);
}

TEST(Incremental, ReferencesPointAtTheBytesAndRetentionKeepsWhatIsReferred) {
  TempDir run;
  TestModel m;
  save_incremental(run.path, 1, m);
  bump(m, "h.0.attn.c_attn.weight");
  save_incremental(run.path, 2, m);
  bump(m, "h.0.mlp.c_fc.weight");
  SaveStats s3 = save_incremental(run.path, 3, m);
  // Unchanged since step 1 -> step 1's file, not step 2's reference to it.
  std::set<std::string> targets;
  for (const std::string& r : refs_of(s3.dir)) targets.insert(r);
  EXPECT_EQ(targets, (std::set<std::string>{"", "step_00000001/rank_00000-of-00001.safetensors",
                                            "step_00000002/rank_00000-of-00001.safetensors"}));
  // keep_last = 2 keeps 2 and 3; 3 refers to 1 and 2, so nothing is removed.
  EXPECT_EQ(list_checkpoints(run.path).size(), 3u);
  expect_reads(s3.dir, m);

  bump(m, "h.0.attn.c_attn.weight");
  bump(m, "h.0.mlp.c_fc.weight");
  save_incremental(run.path, 4, m);  // refers to 1 only; 3 (kept) still needs 2
  EXPECT_EQ(list_checkpoints(run.path).size(), 4u);
  bump(m, "h.0.attn.c_attn.weight");
  bump(m, "h.0.mlp.c_fc.weight");
  SaveStats s5 = save_incremental(run.path, 5, m);  // keeps 4, 5 and what they refer to: 1
  std::vector<std::string> left;
  for (const std::string& d : list_checkpoints(run.path)) left.push_back(fs::path(d).filename().string());
  EXPECT_EQ(left, (std::vector<std::string>{"step_00000001", "step_00000004", "step_00000005"}));
  expect_reads(s5.dir, m);
}

TEST(Incremental, CompressedPiecesAreReferencedToo) {
  TempDir run;
  TestModel m;
  save_incremental(run.path, 1, m, 2, "zstd");
  bump(m, "wpe.weight");
  SaveStats s = save_incremental(run.path, 2, m, 2, "zstd");
  EXPECT_EQ(s.pieces, 3);      // one 1 MiB-grid chunk per buffer of this small model
  EXPECT_EQ(s.referenced, 2);  // adam_m and adam_v
  expect_reads(s.dir, m);
}

TEST(Incremental, MissingTargetAndEscapingReferencesAreRefused) {
  TempDir run;
  TestModel m;
  save_incremental(run.path, 1, m);
  bump(m, "wpe.weight");
  SaveStats s = save_incremental(run.path, 2, m, 3);

  const std::string manifest = s.dir + "/manifest.json";
  const std::string text = read_text(manifest);
  std::string bad = text;
  const std::string good_ref = "\"step_00000001/rank_00000-of-00001.safetensors\"";
  bad.replace(bad.find(good_ref), good_ref.size(), "\"step_00000001/../../../../etc/passwd\"");
  write_text(manifest, bad);
  EXPECT_ERROR_WITH(open_checkpoint(s.dir, false), "manifest.json", "refers to 'step_00000001/../../../../etc/passwd'",
                    "refused");
  write_text(manifest, text);

  fs::remove_all(run / "checkpoints/step_00000001");
  EXPECT_ERROR_WITH(open_checkpoint(s.dir, false), "step_00000001/rank_00000-of-00001.safetensors, which is missing");
}

}  // namespace
}  // namespace cairn::ckpt::test

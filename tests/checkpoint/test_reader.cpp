// tests/checkpoint/test_reader.cpp — reading checkpoints back: resharding to other world
// sizes (bitwise), the world-size independent logical hash, and every kind of damage
// (corrupt byte, truncated or missing shard, garbage or hostile manifest) giving one line
// naming the file while resume falls back to the previous checkpoint.
#include <gtest/gtest.h>

#include <filesystem>

#include <xxhash.h>

#include "checkpoint/logical_hash.h"
#include "checkpoint/run_dir.h"
#include "checkpoint/tools.h"
#include "ckpt_test_util.h"
#include "core/hash.h"

namespace cairn::ckpt::test {
namespace {

using nlohmann::json;

std::string shard(const std::string& run, int64_t step, int rank, int world) {
  return step_dir(run, step) + "/" + shard_file_name(rank, world);
}

// Flips one bit of the data of piece `name` (at element `elem` of the piece).
void corrupt_piece(const std::string& path, const std::string& name, int64_t elem) {
  SafetensorsFile f = SafetensorsFile::open(path);
  const int64_t at = f.find(name)->file_offset + 4 * elem;
  std::string bytes = read_text(path);
  bytes[size_t(at)] ^= 0x10;
  write_text(path, bytes);
}

void rewrite_manifest(const std::string& dir, const std::function<void(json&)>& edit) {
  const std::string path = dir + "/manifest.json";
  json j = json::parse(read_text(path));
  edit(j);
  write_text(path, j.dump(1));
}

TEST(Reader, ReshardsAWorldOfFourToTwoOneAndThreeBitwise) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 10, 4, m).ok);
  Checkpoint c = open_checkpoint(step_dir(run.path, 10), true);
  for (int world : {1, 2, 3, 8}) {
    for (int rank = 0; rank < world; ++rank) {
      Range r = owned_range(m.layout.total, rank, world);
      for (const char* b : {"params", "adam_m", "adam_v"}) {
        std::vector<float> got(size_t(r.size()));
        read_flat_range(c, b, r.begin, r.end, got.data());
        EXPECT_EQ(0, std::memcmp(got.data(), m.buffer(b).data() + r.begin, got.size() * 4))
            << b << " rank " << rank << " of " << world;
      }
    }
  }
  // Ranges that start and end mid-piece and cross shard boundaries.
  for (auto [lo, hi] : std::vector<std::pair<int64_t, int64_t>>{{5, 20011}, {8191, 8193}, {0, 0}, {32767, 32768}}) {
    std::vector<float> got(size_t(hi - lo) + 1, -1.0f);  // one sentinel past the end
    read_flat_range(c, "adam_v", lo, hi, got.data());
    EXPECT_EQ(0, std::memcmp(got.data(), m.adam_v.data() + lo, size_t(hi - lo) * 4)) << lo << ".." << hi;
    EXPECT_EQ(got.back(), -1.0f) << "wrote past the range";
  }
  std::vector<float> one(1);
  EXPECT_ERROR_WITH(read_flat_range(c, "params", 0, m.layout.total + 1, one.data()), "outside");
  EXPECT_ERROR_WITH(read_flat_range(c, "grads", 0, 1, one.data()), "no buffer 'grads'");
}

// A resuming rank (OpenMode::kLazy) opens only the shards that overlap the range it reads:
// of a checkpoint from 8 ranks, a rank of 8 opens 1 or 2 shards, a rank of 2 about 4, not 8;
// a shard it never reads may even be missing (another rank's reads or rank 0's choice find
// that), while OpenMode::kAll checks every one.
TEST(Reader, LazyOpenReadsOnlyTheOverlappingShards) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 10, 8, m).ok);
  for (int world : {8, 2, 16}) {
    for (int rank = 0; rank < world; ++rank) {
      Checkpoint c = open_checkpoint(step_dir(run.path, 10), false, OpenMode::kLazy);
      c.verify_reads = true;
      EXPECT_EQ(c.files_opened(), 0);
      const Range r = owned_range(m.layout.total, rank, world);
      for (const char* b : {"params", "adam_m", "adam_v"}) {
        std::vector<float> got(size_t(r.size()));
        read_flat_range(c, b, r.begin, r.end, got.data());
        verify_partial_pieces(c, b, r.begin, r.end);
        if (!got.empty())  // a rank of 16 may own nothing (memcmp of a null pointer is undefined)
          EXPECT_EQ(0, std::memcmp(got.data(), m.buffer(b).data() + r.begin, got.size() * 4)) << b;
      }
      int want = 0;  // the writers (8 ranks) whose owned range overlaps this one
      for (int w = 0; w < 8; ++w) {
        const Range o = owned_range(m.layout.total, w, 8);
        want += o.begin < r.end && o.end > r.begin;
      }
      EXPECT_EQ(c.files_opened(), want) << "rank " << rank << " of " << world;
      EXPECT_LE(c.files_opened(), 8 / world + 1) << "rank " << rank << " of " << world;
    }
  }
  std::filesystem::remove(shard(run.path, 10, 7, 8));
  Checkpoint lazy = open_checkpoint(step_dir(run.path, 10), false, OpenMode::kLazy);
  std::vector<float> got(16);
  read_flat_range(lazy, "params", 0, 16, got.data());
  EXPECT_EQ(lazy.files_opened(), 1);
  const Range last = owned_range(m.layout.total, 7, 8);
  EXPECT_ERROR_WITH(read_flat_range(lazy, "params", last.begin, last.begin + 1, got.data()),
                    "rank_00007-of-00008.safetensors: missing (rank 7's shard");
  EXPECT_ERROR_WITH(open_checkpoint(step_dir(run.path, 10), false), "rank_00007-of-00008.safetensors: missing");
}

TEST(Reader, LogicalHashIsIndependentOfWorldSize) {
  TestModel m;
  std::vector<std::string> hashes;
  for (int world : {1, 2, 3, 4, 8}) {
    TempDir run;
    CommitResult r = save_simulated(run.path, 6, world, m);
    ASSERT_TRUE(r.ok);
    Checkpoint c = open_checkpoint(r.dir, false);
    EXPECT_EQ(recompute_logical_hash(c), r.logical_hash) << "world " << world;
    hashes.push_back(r.logical_hash);
  }
  for (const std::string& h : hashes) EXPECT_EQ(h, hashes[0]);

  // The definition, spelled out (logical_hash.h, format version 4): any change to it changes
  // every hash. Per buffer, the tree of recursive halving over its chunks' leaves,
  // SHA-256(0x00 || XXH3-128 of the chunk, canonical).
  std::function<Sha256Digest(const std::vector<float>&, int64_t, int64_t)> node =
      [&](const std::vector<float>& v, int64_t lo, int64_t hi) -> Sha256Digest {
    if (hi - lo == 1) {
      XXH128_canonical_t x;
      XXH128_canonicalFromHash(&x, XXH3_128bits(v.data() + lo * kChunkFloats, 4 * kChunkFloats));
      std::string leaf(1, '\x00');
      leaf.append(reinterpret_cast<const char*>(x.digest), 16);
      return sha256(leaf.data(), leaf.size());
    }
    const int64_t mid = lo + (hi - lo) / 2;
    std::string in(1, '\x01');
    for (const Sha256Digest& d : {node(v, lo, mid), node(v, mid, hi)}) in.append(reinterpret_cast<const char*>(d.data()), 32);
    return sha256(in.data(), in.size());
  };
  Sha256 h;
  h.update(json{{"buffers", {"params", "adam_m", "adam_v"}}, {"layout", m.layout.to_json()},
                {"logical", TestModel::state(6)["logical"]}}
               .dump());
  for (const char* b : {"params", "adam_m", "adam_v"}) {
    const Sha256Digest root = node(m.buffer(b), 0, m.layout.total / kChunkFloats);
    h.update(root.data(), 32);
  }
  EXPECT_EQ(h.finish_hex(), hashes[0]);

  // One float, or the logical state, changes it; the rest of the state does not.
  TempDir a, b, c;
  TestModel changed;
  changed.adam_m[12345] = std::nextafter(changed.adam_m[12345], 1e9f);
  EXPECT_NE(save_simulated(a.path, 6, 2, changed).logical_hash, hashes[0]);
  json st = TestModel::state(6);
  st["logical"]["loader"]["cursor"] = 1;
  EXPECT_NE(save_simulated(b.path, 6, 2, m, keep(2), st).logical_hash, hashes[0]);
  st = TestModel::state(6);
  st["config"]["train"]["lr"] = 1.0;
  EXPECT_EQ(save_simulated(c.path, 6, 2, m, keep(2), st).logical_hash, hashes[0]);
}

TEST(Reader, CorruptByteFailsVerificationAndResumeFallsBack) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 4, m).ok);
  ASSERT_TRUE(save_simulated(run.path, 2, 4, m).ok);
  const std::string bad = shard(run.path, 2, 1, 4);
  SafetensorsFile f = SafetensorsFile::open(bad);
  const std::string piece = f.tensors()[0].name.rfind("__pad_", 0) == 0 ? f.tensors()[1].name : f.tensors()[0].name;
  corrupt_piece(bad, piece, 3);

  EXPECT_ERROR_WITH(open_checkpoint(step_dir(run.path, 2), true), bad, "checksum mismatch in piece " + piece,
                    "an earlier checkpoint may be used");
  // Without verification it opens (structure intact); reads covering the piece still catch it.
  Checkpoint c = open_checkpoint(step_dir(run.path, 2), false);
  c.verify_reads = true;
  std::vector<float> all(size_t(m.layout.total));
  EXPECT_ERROR_WITH(read_flat_range(c, "params", 0, m.layout.total, all.data()), bad, "checksum mismatch");
  // A read that does not touch the damaged bytes is fine: only needed bytes are read.
  Range r0 = owned_range(m.layout.total, 0, 4);
  read_flat_range(c, "params", r0.begin, r0.end, all.data());

  std::optional<Checkpoint> resume = find_resume_checkpoint(run.path, true);
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(resume->step(), 1);
  EXPECT_EQ(find_resume_checkpoint(run.path, false)->step(), 2);  // structure-only check passes
}

TEST(Reader, TruncatedShardIsRefusedAndResumeFallsBack) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 2, m).ok);
  ASSERT_TRUE(save_simulated(run.path, 2, 2, m).ok);
  const std::string bad = shard(run.path, 2, 1, 2);
  std::filesystem::resize_file(bad, std::filesystem::file_size(bad) - 100);
  EXPECT_ERROR_WITH(open_checkpoint(step_dir(run.path, 2), false), bad, "bytes but the manifest says",
                    "truncated");
  EXPECT_EQ(find_resume_checkpoint(run.path, false)->step(), 1);
}

TEST(Reader, MissingShardIsRefusedAndResumeFallsBack) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 2, m).ok);
  ASSERT_TRUE(save_simulated(run.path, 2, 2, m).ok);
  const std::string bad = shard(run.path, 2, 0, 2);
  std::filesystem::remove(bad);
  EXPECT_ERROR_WITH(open_checkpoint(step_dir(run.path, 2), false), bad, ": missing (rank 0's shard");
  EXPECT_EQ(find_resume_checkpoint(run.path, true)->step(), 1);
}

TEST(Reader, GarbageOrIncompleteManifestIsRefused) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 2, m).ok);
  ASSERT_TRUE(save_simulated(run.path, 2, 2, m).ok);
  const std::string dir = step_dir(run.path, 2);
  const std::string manifest = dir + "/manifest.json";
  const std::string good = read_text(manifest);

  write_text(manifest, "\x7f" "ELF garbage");
  EXPECT_ERROR_WITH(open_checkpoint(dir, false), manifest, "not valid JSON");
  EXPECT_EQ(find_resume_checkpoint(run.path, false)->step(), 1);

  struct Edit { const char* what; std::function<void(json&)> edit; const char* expect; };
  const std::vector<Edit> edits = {
      {"missing step", [](json& j) { j.erase("step"); }, "missing field 'step'"},
      {"step as string", [](json& j) { j["step"] = "2"; }, "field 'step' must be an integer"},
      {"world size", [](json& j) { j["world_size"] = 3; }, "world_size 3 but 2 shards"},
      {"piece missing", [](json& j) { j["shards"][1]["pieces"].erase(0); }, "stored in no shard"},
      {"bad xxh3", [](json& j) { j["shards"][0]["pieces"][0]["xxh3"] = "xyz"; }, "16 lowercase hex"},
      {"newer format", [](json& j) { j["format_version"] = 99; }, "format version 99"},
      {"bad layout", [](json& j) { j["layout"]["total"] = 100; }, "multiple of 4096"},
      {"not a manifest", [](json& j) { j["format"] = "other"; }, "not a cairn checkpoint manifest"},
  };
  for (const Edit& e : edits) {
    SCOPED_TRACE(e.what);
    write_text(manifest, good);
    rewrite_manifest(dir, e.edit);
    EXPECT_ERROR_WITH(open_checkpoint(dir, false), manifest, e.expect);
  }
  // A manifest copied from another step's directory.
  write_text(manifest, read_text(step_dir(run.path, 1) + "/manifest.json"));
  EXPECT_ERROR_WITH(open_checkpoint(dir, false), manifest, "says step 1 but the directory is step 2");
  std::filesystem::remove(manifest);
  EXPECT_ERROR_WITH(open_checkpoint(dir, false), manifest, "missing", "not a committed checkpoint");
}

TEST(Reader, ManifestNamesThatLeaveTheDirectoryAreRefused) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 2, m).ok);
  const std::string dir = step_dir(run.path, 1);
  const std::string good = read_text(dir + "/manifest.json");
  for (const char* name : {"../x", "/etc/passwd", "..", "sub/rank_00000-of-00002.safetensors"}) {
    SCOPED_TRACE(name);
    write_text(dir + "/manifest.json", good);
    rewrite_manifest(dir, [&](json& j) { j["shards"][0]["file"] = name; });
    EXPECT_ERROR_WITH(open_checkpoint(dir, false), dir + "/manifest.json", std::string("'") + name + "'",
                      "would leave the checkpoint directory");
  }
  write_text(dir + "/manifest.json", good);
  rewrite_manifest(dir, [](json& j) { j["shards"][0]["file"] = "rank_00001-of-00002.safetensors"; });
  EXPECT_ERROR_WITH(open_checkpoint(dir, false), "expected 'rank_00000-of-00002.safetensors'");
}

TEST(Reader, ShardFromAnotherWorldSizeIsRefused) {
  TempDir run, other;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 2, m).ok);
  ASSERT_TRUE(save_simulated(other.path, 1, 4, m).ok);
  const std::string target = shard(run.path, 1, 0, 2);
  std::filesystem::copy_file(shard(other.path, 1, 0, 4), target, std::filesystem::copy_options::overwrite_existing);
  EXPECT_ANY_THROW(open_checkpoint(step_dir(run.path, 1), false));
}

TEST(Reader, ResolvesCheckpointAndRunDirectories) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 1, m).ok);
  ASSERT_TRUE(save_simulated(run.path, 2, 1, m).ok);
  EXPECT_EQ(resolve_checkpoint_path(step_dir(run.path, 1)), step_dir(run.path, 1));
  EXPECT_EQ(resolve_checkpoint_path(run.path), step_dir(run.path, 2));
  EXPECT_EQ(resolve_checkpoint_path(run / "checkpoints"), step_dir(run.path, 2));
  std::filesystem::remove(shard(run.path, 2, 0, 1));
  EXPECT_EQ(resolve_checkpoint_path(run.path), step_dir(run.path, 1));  // newest valid

  std::filesystem::create_directories(run / "checkpoints/step_00000009.tmp");
  EXPECT_ERROR_WITH(resolve_checkpoint_path(run / "checkpoints/step_00000009.tmp"), "no manifest.json");
  EXPECT_ERROR_WITH(resolve_checkpoint_path(run / "nowhere"), "neither a checkpoint directory");
  TempDir empty;
  std::filesystem::create_directories(empty / "checkpoints");
  EXPECT_ERROR_WITH(resolve_checkpoint_path(empty.path), "has no valid checkpoint");
  EXPECT_FALSE(find_resume_checkpoint(empty.path, true).has_value());
}

TEST(Reader, LayoutMismatchNamesTheDifference) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 1, 1, m).ok);
  Checkpoint c = open_checkpoint(step_dir(run.path, 1), false);
  check_layout_matches(c, m.layout);

  Layout fewer = m.layout;
  fewer.tensors.pop_back();
  EXPECT_ERROR_WITH(check_layout_matches(c, fewer), "has tensor ln_f.weight but the model does not",
                    "another model config");
  Layout more = m.layout;
  more.tensors.push_back({"h.1.ln_1.weight", {97}, 30000, 97, {}});
  EXPECT_ERROR_WITH(check_layout_matches(c, more), "the model has tensor h.1.ln_1.weight but checkpoint");
  Layout reshaped = m.layout;
  reshaped.tensors[1].shape = {97, 13};
  EXPECT_ERROR_WITH(check_layout_matches(c, reshaped), "tensor wpe.weight has shape [13,97]", "[97,13] in the model");
  Layout bigger = m.layout;
  bigger.total += kChunkFloats;
  EXPECT_ERROR_WITH(check_layout_matches(c, bigger), "32768 floats but the model's 36864");
}

TEST(Reader, LayoutJsonRoundTripsAndValidates) {
  TestModel m;
  EXPECT_EQ(Layout::from_json(m.layout.to_json()).to_json(), m.layout.to_json());
  json j = m.layout.to_json();
  j["tensors"][1]["offset"] = 10;  // overlaps wte
  EXPECT_ERROR_WITH(Layout::from_json(j), "wpe.weight", "overlaps");
  j = m.layout.to_json();
  j["tensors"][0]["numel"] = 5;
  EXPECT_ERROR_WITH(Layout::from_json(j), "wte.weight", "numel 5");
  j = m.layout.to_json();
  j["tensors"][0].erase("export_shape");
  EXPECT_ERROR_WITH(Layout::from_json(j), "export_shape");
}

}  // namespace
}  // namespace cairn::ckpt::test

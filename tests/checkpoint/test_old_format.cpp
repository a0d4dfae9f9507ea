// tests/checkpoint/test_old_format.cpp — the logical hash across format versions:
//   OldFormat  checkpoints written before the tree-shaped hash (format versions 1 and 2, made
//              by commit dffea94) and before its XXH3-128 leaves (version 3, commit 6a8c8f1;
//              tests/checkpoint/fixtures/) still open, read (whole and resharded), verify,
//              and hash to the value their manifests record (each by its version's
//              definition); the same state saved now (version 4) reads the same floats and
//              hashes by the tree over XXH3-128 leaves, whose definition is spelled out here.
//   HashTree   a rank's range is a few tree nodes, and any tiling gives the same root.
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <xxhash.h>

#include "checkpoint/logical_hash.h"
#include "checkpoint/tools.h"
#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

constexpr const char* kOldHash = "668175c9c423ee1d9cf1af1e70b5e282a1e558428b6efef0a03c62d8e20ca958";  // v1, v2
constexpr const char* kV3Hash = "f187a323d4deb169629738be4da320ada98ca97ca199cb147ee7e3cc7f8d7d89";

// fixtures/make_old_format.cpp's values.
float fixture_value(int b, int64_t i) {
  return float(int64_t((i * 2654435761u + uint64_t(b) * 97) % 100003) - 50000) / 1024.0f;
}

// Next to this file. (CMakeLists.txt's gtest ENVIRONMENT passes only CAIRN_BIN: its second
// entry becomes a property name, so CAIRN_SOURCE_DIR is unset here.) __FILE__ is absolute, or
// relative to the build directory where ctest runs the test (ccache's CCACHE_BASEDIR).
std::string fixture(const std::string& name) {
  const char* src = std::getenv("CAIRN_SOURCE_DIR");
  const std::filesystem::path here = src ? std::filesystem::path(src) / "tests/checkpoint"
                                         : std::filesystem::path(__FILE__).parent_path();
  return (here / "fixtures" / name / "checkpoints/step_00000003").string();
}

const char* const kBuffers[] = {"params", "adam_m", "adam_v"};

TEST(OldFormat, LoadsVerifiesAndHashesAsWritten) {
  struct Fixture {
    const char* name;
    int version;
    const char* hash;
  };
  for (const Fixture& fx : {Fixture{"v1-plain", 1, kOldHash}, {"v2-zstd", 2, kOldHash}, {"v3-plain", 3, kV3Hash},
                            {"v3-zstd", 3, kV3Hash}}) {
    SCOPED_TRACE(fx.name);
    const std::string dir = fixture(fx.name);
    Checkpoint c = open_checkpoint(dir, true);
    EXPECT_EQ(c.manifest.format_version, fx.version);
    EXPECT_EQ(c.manifest.logical_hash, fx.hash);
    EXPECT_EQ(recompute_logical_hash(c), fx.hash);
    std::ostringstream out;
    EXPECT_TRUE(verify_checkpoint(dir, out)) << out.str();

    const int64_t total = c.layout().total;
    for (int b = 0; b < 3; ++b) {
      std::vector<float> got(static_cast<size_t>(total)), want(static_cast<size_t>(total));
      for (int64_t i = 0; i < total; ++i) want[size_t(i)] = fixture_value(b, i);
      read_flat_range(c, kBuffers[b], 0, total, got.data());
      EXPECT_EQ(got, want) << kBuffers[b];
      // A resume on another world size: a range that cuts pieces, checked as resume checks it.
      const int64_t lo = 1001, hi = total - 777;
      std::vector<float> part(size_t(hi - lo));
      read_flat_range(c, kBuffers[b], lo, hi, part.data());
      EXPECT_EQ(part, std::vector<float>(want.begin() + lo, want.begin() + hi)) << kBuffers[b];
      verify_partial_pieces(c, kBuffers[b], lo, hi);
    }
  }
}

TEST(OldFormat, SameStateSavedNowReadsTheSameAndHashesByTheTreeOfXxh128Leaves) {
  Checkpoint old = open_checkpoint(fixture("v1-plain"), true);
  const Layout& layout = old.layout();
  std::vector<std::vector<float>> buf(3, std::vector<float>(size_t(layout.total)));
  for (int b = 0; b < 3; ++b)
    for (int64_t i = 0; i < layout.total; ++i) buf[size_t(b)][size_t(i)] = fixture_value(b, i);
  TempDir run;
  const std::string tmp = prepare_step_dir(run.path, 3);
  std::vector<ShardRecord> records;
  for (int r = 0; r < 2; ++r) {
    const Range own = owned_range(layout.total, r, 2);
    std::vector<OwnedSlice> slices;
    for (int b = 0; b < 3; ++b) slices.push_back({kBuffers[b], buf[size_t(b)].data() + own.begin, own.begin, own.end});
    records.push_back(write_shard(tmp, r, 2, layout, slices));
  }
  CommitResult now = commit_records(run.path, 3, layout, records, old.state(), keep(2));
  ASSERT_TRUE(now.ok);
  Checkpoint c = open_checkpoint(now.dir, true);
  EXPECT_EQ(c.manifest.format_version, kFormatVersionXxhLeaves);
  std::ostringstream diff;
  EXPECT_TRUE(diff_checkpoints(old, c, diff)) << diff.str();
  for (const char* v3 : {"v3-plain", "v3-zstd"}) {
    std::ostringstream d3;
    EXPECT_TRUE(diff_checkpoints(open_checkpoint(fixture(v3), true), c, d3)) << d3.str();
  }
  EXPECT_NE(now.logical_hash, kOldHash);
  EXPECT_NE(now.logical_hash, kV3Hash);

  // The tree over 2 chunks: root = SHA-256(0x01 || leaf(0) || leaf(1)), each leaf
  // SHA-256(0x00 || XXH3-128 of the chunk, most significant byte first). The XXH3-128 is
  // spelled out through xxhash's own canonical form, independently of core/hash.
  Sha256 h;
  h.update(nlohmann::json{{"buffers", {"params", "adam_m", "adam_v"}}, {"layout", layout.to_json()},
                          {"logical", old.state()["logical"]}}
               .dump());
  for (int b = 0; b < 3; ++b) {
    uint8_t node[65] = {0x01};
    auto leaf = [](const float* chunk) {
      XXH128_canonical_t x;
      XXH128_canonicalFromHash(&x, XXH3_128bits(chunk, 4 * kChunkFloats));
      uint8_t in[17] = {0x00};
      std::memcpy(in + 1, x.digest, 16);
      return sha256(in, sizeof(in));
    };
    const Sha256Digest l = leaf(buf[size_t(b)].data());
    const Sha256Digest r = leaf(buf[size_t(b)].data() + kChunkFloats);
    std::memcpy(node + 1, l.data(), 32);
    std::memcpy(node + 33, r.data(), 32);
    const Sha256Digest root = sha256(node, sizeof(node));
    h.update(root.data(), 32);
  }
  EXPECT_EQ(h.finish_hex(), now.logical_hash);
  EXPECT_EQ(recompute_logical_hash(c), now.logical_hash);
}

}  // namespace
}  // namespace cairn::ckpt::test

namespace cairn::ckpt::test {
namespace {

// The commit's cost argument: a rank's range is a handful of tree nodes whatever its size,
// and any tiling of the chunks (ranks of any W, verify's blocks) gives the same root.
TEST(HashTree, FewNodesPerRangeAndTheSameRootForAnyTiling) {
  const int64_t C = 1000;  // not a power of two: ragged splits
  std::vector<Sha256Digest> leaves(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) leaves[size_t(c)] = sha256(&c, sizeof(c));
  const std::vector<HashNode> whole = subtree_nodes(leaves, 0, C, C);
  ASSERT_EQ(whole.size(), 1u);
  for (int world : {1, 2, 3, 7, 64, 1000}) {
    std::vector<HashNode> all;
    for (int r = 0; r < world; ++r) {
      const int64_t c0 = C * r / world, c1 = C * (r + 1) / world;
      std::vector<Sha256Digest> mine(leaves.begin() + c0, leaves.begin() + c1);
      std::vector<HashNode> nodes = subtree_nodes(mine, c0, c1, C);
      EXPECT_LE(nodes.size(), 2u * 10u) << "world " << world << " rank " << r;  // 2 log2(1024)
      int64_t pos = c0;
      for (const HashNode& n : nodes) {
        EXPECT_EQ(n.lo, pos);
        pos = n.hi;
      }
      EXPECT_EQ(pos, c1);
      all.insert(all.end(), nodes.begin(), nodes.end());
    }
    EXPECT_EQ(tree_root(all, C, "test"), whole[0].digest) << "world " << world;
    std::vector<HashNode> missing(all.begin() + 1, all.end());
    if (world > 1) EXPECT_ERROR_WITH(tree_root(missing, C, "test"), "test: no hash tree node covers chunk 0");
  }
  std::vector<HashNode> twice = {whole[0], whole[0]};
  EXPECT_ERROR_WITH(tree_root(twice, C, "test"), "hash tree node [0, 1000) sent twice");
}

// A shard writer feeds the leaves window by window, in spans that cut chunks anywhere (piece
// boundaries); the leaves are those of the whole buffer, as version 4 defines them.
TEST(HashTree, LeafStreamOverAnySpansEqualsTheChunkLeaves) {
  const int64_t n = 5 * kChunkFloats;
  std::vector<float> data(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) data[size_t(i)] = float(i % 977) * 0.25f - 7.0f;
  const std::vector<Sha256Digest> want = chunk_digests(data.data(), n, kFormatVersionXxhLeaves);
  ASSERT_EQ(want.size(), 5u);
  EXPECT_EQ(want[0], leaf_digest(xxh3_128(data.data(), 4 * kChunkFloats)));
  EXPECT_NE(want[0], chunk_digests(data.data(), kChunkFloats, kFormatVersionTreeHash)[0]);  // version 3's leaf
  for (int64_t span : {int64_t(1), int64_t(16), int64_t(4093), int64_t(4096), int64_t(7000), 4 * n}) {
    LeafStream s;
    for (int64_t pos = 0; pos < 4 * n; pos += span)
      s.add(reinterpret_cast<const char*>(data.data()) + pos, std::min(span, 4 * n - pos));
    EXPECT_EQ(s.finish("test"), want) << "span " << span;
  }
  LeafStream torn;
  torn.add(data.data(), 4 * kChunkFloats + 12);
  EXPECT_ERROR_WITH(torn.finish("x.safetensors: buffer 'params'"),
                    "x.safetensors: buffer 'params': the bytes hashed end 12 bytes into a chunk");
}

}  // namespace
}  // namespace cairn::ckpt::test

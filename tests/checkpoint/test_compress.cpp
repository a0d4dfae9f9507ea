// tests/checkpoint/test_compress.cpp — checkpoint.compress = "zstd": the shuffle4-zstd codec
// round-trips every float bit pattern; compressed saves (W = 1 and W = 3 as threads, ranges
// cut mid-chunk) are valid safetensors files, verify, read back bitwise at any range
// (resharding), have the logical hash of the uncompressed save of the same state, and a
// damaged compressed piece is reported with the file and the piece.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "checkpoint/codec.h"
#include "checkpoint/logical_hash.h"
#include "checkpoint/tools.h"
#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

// Three buffers over a layout of 3 codec chunks and a bit (so W = 3 cuts chunks), with
// weight-like values: a few exponents, random mantissas, some zeros.
struct BigModel {
  Layout layout;
  std::vector<float> params, adam_m, adam_v;
  BigModel() {
    layout.total = 3 * kCodecChunkFloats + 5 * kChunkFloats;
    TensorInfo a{"h.0.attn.c_attn.weight", {997, 613}, 0, 997 * 613, {}};
    TensorInfo b{"ln_f.bias", {701}, 997 * 613 + 3, 701, {}};
    layout.tensors = {a, b};
    params = fill(1, 0.02f);
    adam_m = fill(2, 1e-4f);
    adam_v = fill(3, 1e-8f);
  }
  std::vector<float> fill(uint32_t seed, float scale) const {
    std::vector<float> v(size_t(layout.total), 0.0f);
    uint32_t x = seed * 2654435761u;
    for (int64_t i = 0; i < 997 * 613 + 704; ++i) {
      x = x * 1664525u + 1013904223u;
      v[size_t(i)] = scale * (float(int32_t(x >> 8) - (1 << 23)) / float(1 << 23));
    }
    return v;
  }
  const std::vector<float>& buffer(const std::string& n) const {
    return n == "params" ? params : n == "adam_m" ? adam_m : adam_v;
  }
  std::vector<OwnedSlice> slices(int rank, int world) const {
    Range r = owned_range(layout.total, rank, world);
    std::vector<OwnedSlice> out;
    for (const char* b : {"params", "adam_m", "adam_v"}) out.push_back({b, buffer(b).data() + r.begin, r.begin, r.end});
    return out;
  }
};

std::string save(const BigModel& m, const std::string& run, int world, const std::string& compress) {
  std::string dir;
  run_ranks(world, [&](Comm& comm) {
    SaveStats s = save_checkpoint(comm, run, 9, m.layout, m.slices(comm.rank(), world), TestModel::state(9), keep(2),
                                  ShardOptions{compress});
    ASSERT_TRUE(s.ok) << s.error;
    if (comm.rank() == 0) dir = s.dir;
    if (compress == "zstd") {
      EXPECT_LT(s.bytes, s.logical_bytes);
    }
  });
  return dir;
}

TEST(Codec, RoundTripsEveryBitPattern) {
  std::vector<float> x(100003);
  uint32_t s = 7;
  for (float& f : x) {
    s = s * 1664525u + 1013904223u;
    std::memcpy(&f, &s, 4);  // arbitrary bits: NaNs with payloads, denormals, infinities
  }
  x[0] = -0.0f;
  x[1] = std::numeric_limits<float>::denorm_min();
  x[2] = std::numeric_limits<float>::infinity();
  std::string enc;
  encode_shuffle_zstd(x.data(), int64_t(x.size()), &enc);
  EXPECT_LE(int64_t(enc.size()), encoded_bound(int64_t(x.size())));
  std::vector<float> y(x.size());
  decode_shuffle_zstd(enc.data(), int64_t(enc.size()), y.data(), int64_t(y.size()), "test");
  EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * 4));

  std::vector<float> zeros(4096, 0.0f);
  encode_shuffle_zstd(zeros.data(), 4096, &enc);
  EXPECT_LT(enc.size(), 100u);  // zeros (padding, frozen moments) cost next to nothing

  EXPECT_ERROR_WITH(decode_shuffle_zstd(enc.data(), int64_t(enc.size()), y.data(), 4095, "f: piece p"),
                    "f: piece p: compressed data");
  enc[enc.size() / 2] ^= 0x5a;
  enc.resize(enc.size() - 3);
  EXPECT_ERROR_WITH(decode_shuffle_zstd(enc.data(), int64_t(enc.size()), y.data(), 4096, "f: piece p"),
                    "f: piece p: compressed data");
}

TEST(Compress, SavesVerifyReshardAndHashLikeUncompressed) {
  BigModel m;
  TempDir plain_run;
  const std::string plain = save(m, plain_run.path, 1, "none");
  const std::string plain_hash = open_checkpoint(plain, true).manifest.logical_hash;
  EXPECT_EQ(open_checkpoint(plain, false).manifest.format_version, kFormatVersionLatest);

  for (int world : {1, 3}) {
    TempDir run;
    const std::string dir = save(m, run.path, world, "zstd");
    Checkpoint c = open_checkpoint(dir, true);
    EXPECT_EQ(c.manifest.format_version, kFormatVersionLatest);
    EXPECT_EQ(c.manifest.logical_hash, plain_hash) << "world " << world;
    EXPECT_EQ(recompute_logical_hash(c), plain_hash);
    std::ostringstream out;
    EXPECT_TRUE(verify_checkpoint(dir, out)) << out.str();

    // Pieces sit on the chunk grid, clipped to the owned ranges; U8 tensors in a valid file.
    for (const ManifestShard& s : c.manifest.shards) {
      SafetensorsFile f = SafetensorsFile::open(dir + "/" + s.file);
      EXPECT_EQ(f.metadata().at("format_version"), "2");
      for (const PieceRecord& p : s.pieces) {
        EXPECT_EQ(p.codec, kCodecShuffleZstd);
        EXPECT_TRUE(p.begin % kCodecChunkFloats == 0 || p.begin == owned_range(m.layout.total, s.rank, world).begin);
        EXPECT_LE(p.end - p.begin, kCodecChunkFloats);
        EXPECT_EQ(f.find(p.name)->dtype, "U8");
      }
    }

    // Any range, as a reader of another world size asks for it.
    for (auto [b, e] : {std::pair<int64_t, int64_t>{0, m.layout.total}, {1000, 300001}, {262143, 262145},
                        {m.layout.total - 7, m.layout.total}}) {
      for (const char* buf : {"params", "adam_m", "adam_v"}) {
        std::vector<float> got(size_t(e - b));
        read_flat_range(c, buf, b, e, got.data());
        EXPECT_EQ(0, std::memcmp(got.data(), m.buffer(buf).data() + b, got.size() * 4)) << buf << " [" << b << ", " << e << ")";
      }
    }
  }
}

TEST(Compress, DamagedCompressedPieceIsReportedWithFileAndPiece) {
  BigModel m;
  TempDir run;
  const std::string dir = save(m, run.path, 1, "zstd");
  Checkpoint c = open_checkpoint(dir, false);
  const PieceRecord& p = c.manifest.shards[0].pieces[1];
  const std::string path = dir + "/" + c.manifest.shards[0].file;
  std::string bytes = read_text(path);
  bytes[size_t(p.offset + p.stored / 2)] ^= 0x01;
  write_text(path, bytes);

  std::ostringstream out;
  EXPECT_FALSE(verify_checkpoint(dir, out));
  EXPECT_NE(out.str().find("checksum mismatch in piece " + p.name), std::string::npos) << out.str();
  // Without checksums, the decoder still refuses what it cannot decode exactly (or the
  // floats differ, which the logical hash catches).
  Checkpoint unchecked = open_checkpoint(dir, false);
  std::vector<float> got(size_t(p.end - p.begin));
  try {
    read_flat_range(unchecked, p.buffer, p.begin, p.end, got.data());
    EXPECT_NE(0, std::memcmp(got.data(), m.buffer(p.buffer).data() + p.begin, got.size() * 4));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p.name), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cairn::ckpt::test

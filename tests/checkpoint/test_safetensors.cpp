// tests/checkpoint/test_safetensors.cpp — the safetensors writer round-trips (alignment,
// padding tensors, streamed sources, checksums, sub-range reads) and the strict reader
// refuses each malformed header with one line naming the file and the problem.
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

#include "checkpoint/safetensors.h"
#include "ckpt_test_util.h"
#include "core/hash.h"

namespace cairn::ckpt::test {
namespace {

// A file made by hand: 8-byte length (or `claimed_len`), the header text, `data_bytes` bytes.
std::string raw_file(const TempDir& dir, const std::string& header, int64_t data_bytes, int64_t claimed_len = -1) {
  const std::string path = dir / "raw.safetensors";
  std::string s(8, '\0');
  uint64_t n = claimed_len >= 0 ? uint64_t(claimed_len) : header.size();
  for (int i = 0; i < 8; ++i) s[size_t(i)] = char(n >> (8 * i));
  s += header;
  s += std::string(size_t(data_bytes), '\x01');
  write_text(path, s);
  return path;
}

TEST(Safetensors, RoundTripWithAlignmentPadding) {
  TempDir dir;
  std::vector<float> a(37), b(1000);
  std::iota(a.begin(), a.end(), 1.0f);
  std::iota(b.begin(), b.end(), -500.0f);
  std::vector<uint8_t> u(5, 7);
  std::vector<int64_t> idx = {1, -2, 3};
  std::vector<TensorSource> src(4);
  src[0] = {"a", "F32", {37}, a.data(), {}, true};
  src[1] = {"b", "F32", {10, 100}, b.data(), {}, true};  // 37 floats end misaligned: padding
  src[2] = {"u", "U8", {5}, u.data(), {}, false};
  src[3] = {"i", "I64", {3}, idx.data(), {}, true};
  const std::string path = dir / "t.safetensors";
  WriteSummary w = write_safetensors(path, src, {{"format", "pt"}, {"note", "hello"}});

  SafetensorsFile f = SafetensorsFile::open(path);
  EXPECT_EQ(f.file_size(), w.file_bytes);
  EXPECT_EQ(f.data_start() % kSafetensorsAlign, 0);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("note"), "hello");
  ASSERT_EQ(w.tensors.size(), 4u);
  int pads = 0;
  for (const TensorEntry& t : f.tensors()) pads += t.name.rfind("__pad_", 0) == 0 ? 1 : 0;
  EXPECT_EQ(pads, 2);  // before b and before i; u needs none

  const TensorEntry* tb = f.find("b");
  ASSERT_NE(tb, nullptr);
  EXPECT_EQ(tb->dtype, "F32");
  EXPECT_EQ(tb->shape, (std::vector<int64_t>{10, 100}));
  EXPECT_EQ(tb->file_offset % kSafetensorsAlign, 0);
  EXPECT_EQ(tb->file_offset, w.tensors[1].file_offset);
  EXPECT_EQ(f.find("i")->file_offset % kSafetensorsAlign, 0);
  EXPECT_EQ(f.checksum(*tb), xxh3_64(b.data(), b.size() * 4));
  EXPECT_EQ(w.tensors[1].xxh3, xxh3_64(b.data(), b.size() * 4));

  std::vector<float> part(7);
  f.read(*tb, 4 * 123, 4 * 130, part.data());
  for (int i = 0; i < 7; ++i) EXPECT_EQ(part[size_t(i)], b[size_t(123 + i)]);
  std::vector<int64_t> back(3);
  f.read(*f.find("i"), 0, 24, back.data());
  EXPECT_EQ(back, idx);
  EXPECT_ERROR_WITH(f.read(*tb, 0, 4001, part.data()), path, "outside tensor 'b'");
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST(Safetensors, StreamedSourceSpanningManyBuffers) {
  TempDir dir;
  const int64_t n = 5'000'003;  // > 16 MiB of floats: several fill() calls
  TensorSource s;
  s.name = "big";
  s.shape = {n};
  s.fill = [](int64_t off, int64_t bytes, void* out) {
    float* f = static_cast<float*>(out);
    for (int64_t i = 0; i < bytes / 4; ++i) f[i] = float(off / 4 + i);
  };
  const std::string path = dir / "big.safetensors";
  write_safetensors(path, {s}, {});
  SafetensorsFile f = SafetensorsFile::open(path);
  float v[2];
  f.read(*f.find("big"), 4 * (n - 2), 4 * n, v);
  EXPECT_EQ(v[0], float(n - 2));
  EXPECT_EQ(v[1], float(n - 1));
  EXPECT_TRUE(f.metadata().empty());
}

TEST(Safetensors, WriterErrorsNameTheFile) {
  TempDir dir;
  float x = 1;
  const std::string path = dir / "no/such/dir/x.safetensors";
  EXPECT_ERROR_WITH(write_safetensors(path, {{"x", "F32", {1}, &x, {}, false}}, {}), path, "cannot create file");
  EXPECT_ERROR_WITH(write_safetensors(dir / "y", {{"x", "F33", {1}, &x, {}, false}}, {}), "unknown dtype 'F33'");
  EXPECT_ERROR_WITH(write_safetensors(dir / "z", {{"x", "F32", {1}, &x, {}, false}, {"x", "F32", {1}, &x, {}, false}}, {}),
                    "duplicate");
}

struct BadHeader {
  const char* what;
  std::string header;
  int64_t data_bytes;
  int64_t claimed_len;  // -1: the real header length
  const char* expect;
};

TEST(Safetensors, RejectsMalformedFiles) {
  const std::string ok1 = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::vector<BadHeader> cases = {
      {"header over 100 MB", "{}", 0, 200'000'000, "header length 200000000 exceeds the 100 MB limit"},
      {"header past end", "{}", 0, 5000, "header length 5000 exceeds the file size"},
      {"invalid JSON", "{\"a\": [1,", 0, -1, "header is not valid JSON"},
      {"not starting with {", " []", 0, -1, "header does not start with '{'"},
      {"unknown dtype", R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8, -1, "unknown dtype 'F33'"},
      {"shape/range mismatch", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, -1,
       "needs 12 bytes but data_offsets span 8"},
      {"shape overflow", R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", 8, -1,
       "overflows"},
      {"offset overflow", R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}})",
       0, -1, "non-negative integer"},
      {"negative dim", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, -1, "non-negative integer"},
      {"gap", "{" + ok1 + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", 16, -1,
       "gap in the data section between bytes 8 and 12"},
      {"overlap", "{" + ok1 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12, -1, "overlap"},
      {"trailing data", "{" + ok1 + "}", 12, -1, "data section is 12 bytes but the tensors cover 8 (trailing bytes)"},
      {"truncated data", "{" + ok1 + "}", 6, -1, "data section is 6 bytes but the tensors cover 8 (file truncated?)"},
      {"duplicate name", "{" + ok1 + "," + ok1 + "}", 8, -1, "duplicate key 'a'"},
      {"missing field", R"({"a":{"dtype":"F32","shape":[2]}})", 8, -1, "must have exactly dtype, shape and data_offsets"},
      {"metadata not strings", "{" + ok1 + R"(,"__metadata__":{"k":1}})", 8, -1, "__metadata__ value of 'k' is not a string"},
      {"header not an object", "{\"a\": 1}", 0, -1, "must have exactly dtype, shape and data_offsets"},
  };
  for (const BadHeader& c : cases) {
    SCOPED_TRACE(c.what);
    TempDir dir;
    const std::string path = raw_file(dir, c.header, c.data_bytes, c.claimed_len);
    EXPECT_ERROR_WITH(SafetensorsFile::open(path), path, "not a valid safetensors file", c.expect);
  }
}

TEST(Safetensors, RejectsShortAndMissingFiles) {
  TempDir dir;
  write_text(dir / "short", "abc");
  EXPECT_ERROR_WITH(SafetensorsFile::open(dir / "short"), dir / "short", "too short");
  EXPECT_ERROR_WITH(SafetensorsFile::open(dir / "absent"), dir / "absent", "cannot open", "No such file");
}

TEST(Safetensors, AcceptsValidHandMadeFile) {
  TempDir dir;
  const std::string path = raw_file(
      dir, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}   )",
      8);
  SafetensorsFile f = SafetensorsFile::open(path);
  EXPECT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.find("e")->bytes(), 0);
}

}  // namespace
}  // namespace cairn::ckpt::test

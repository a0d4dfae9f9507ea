// tests/data/token_shard_test.cpp — llm.c shard round trip and every malformed-file error.
#include "data/token_shard.h"

#include <cstring>
#include <filesystem>

#include "data_test_util.h"

namespace cairn::data {
namespace {

using test::throws_error_with;

class TokenShardTest : public test::TempDirTest {
 protected:
  // A raw header + body, for building malformed files.
  std::vector<uint8_t> raw(int32_t magic, int32_t version, int32_t count, int64_t body_tokens) {
    std::vector<uint8_t> bytes(size_t(kShardHeaderBytes + 2 * body_tokens), 0x11);
    int32_t header[kShardHeaderInts] = {magic, version, count};
    std::memcpy(bytes.data(), header, sizeof(header));
    return bytes;
  }
};

TEST_F(TokenShardTest, RoundTrip) {
  std::vector<uint16_t> tokens = test::iota_tokens(5003, 65000);  // wraps through 65535 and 0
  const std::string p = path("train_000000.bin");
  write_token_shard(p, tokens.data(), int64_t(tokens.size()));
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
  EXPECT_EQ(std::filesystem::file_size(p), uintmax_t(1024 + 2 * tokens.size()));

  TokenShard shard = TokenShard::open(p);
  ASSERT_EQ(shard.n_tokens(), int64_t(tokens.size()));
  EXPECT_EQ(std::memcmp(shard.tokens(), tokens.data(), tokens.size() * 2), 0);
  const int32_t* header = reinterpret_cast<const int32_t*>(shard.file_data());
  EXPECT_EQ(header[0], 20240520);
  EXPECT_EQ(header[1], 1);
  EXPECT_EQ(header[2], 5003);

  TokenShard moved = std::move(shard);  // the mapping moves with it
  EXPECT_EQ(moved.tokens()[3], tokens[3]);
  EXPECT_EQ(moved.path(), p);
}

TEST_F(TokenShardTest, WideRoundTrip) {  // llm.c version 2: uint32 tokens, for vocabularies over 65536
  std::vector<uint32_t> tokens = {0, 65535, 65536, 128255, 7, 4000000000u};
  const std::string p = path("wide.bin");
  write_token_shard(p, tokens.data(), int64_t(tokens.size()));
  EXPECT_EQ(std::filesystem::file_size(p), size_t(kShardHeaderBytes) + 4 * tokens.size());
  TokenShard shard = TokenShard::open(p);
  ASSERT_EQ(shard.token_bytes(), 4);
  ASSERT_EQ(shard.n_tokens(), int64_t(tokens.size()));
  for (size_t i = 0; i < tokens.size(); ++i) EXPECT_EQ(shard.token(int64_t(i)), tokens[i]);
  EXPECT_EQ(std::memcmp(shard.tokens32(), tokens.data(), tokens.size() * 4), 0);
}

TEST_F(TokenShardTest, EmptyShardIsValid) {
  write_token_shard(path("empty.bin"), static_cast<const uint16_t*>(nullptr), 0);
  EXPECT_EQ(TokenShard::open(path("empty.bin")).n_tokens(), 0);
}

TEST_F(TokenShardTest, OverwriteReplacesWholeFile) {
  std::vector<uint16_t> big = test::iota_tokens(100), small = test::iota_tokens(10, 7);
  write_token_shard(path("a.bin"), big.data(), 100);
  write_token_shard(path("a.bin"), small.data(), 10);
  TokenShard shard = TokenShard::open(path("a.bin"));
  ASSERT_EQ(shard.n_tokens(), 10);
  EXPECT_EQ(shard.tokens()[0], 7);
}

TEST_F(TokenShardTest, MissingFile) {
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("nope.bin")); }, {"nope.bin", "cannot open"}));
}

TEST_F(TokenShardTest, TooSmallForHeader) {
  std::vector<uint8_t> bytes(100, 0);
  test::write_bytes(path("tiny.bin"), bytes.data(), bytes.size());
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("tiny.bin")); },
                                {"tiny.bin", "too small", "100 bytes"}));
  test::write_bytes(path("zero.bin"), bytes.data(), 0);
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("zero.bin")); }, {"zero.bin", "too small"}));
}

TEST_F(TokenShardTest, WrongMagic) {
  auto bytes = raw(1234, 1, 4, 4);
  test::write_bytes(path("x.bin"), bytes.data(), bytes.size());
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("x.bin")); },
                                {"x.bin", "not a token shard (magic 1234, expected 20240520)"}));
}

TEST_F(TokenShardTest, WrongVersion) {
  auto bytes = raw(20240520, 3, 4, 4);
  test::write_bytes(path("v3.bin"), bytes.data(), bytes.size());
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("v3.bin")); },
                                {"v3.bin", "unsupported token shard version 3"}));
  bytes = raw(20240520, 2, 4, 4);  // version 2 holds 4 bytes a token: these 8 bytes are 2 tokens
  test::write_bytes(path("v2.bin"), bytes.data(), bytes.size());
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("v2.bin")); }, {"v2.bin", "truncated"}));
}

TEST_F(TokenShardTest, NegativeCount) {
  auto bytes = raw(20240520, 1, -5, 0);
  test::write_bytes(path("neg.bin"), bytes.data(), bytes.size());
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("neg.bin")); }, {"neg.bin", "negative token count"}));
}

TEST_F(TokenShardTest, Truncated) {
  auto bytes = raw(20240520, 1, 10, 10);
  test::write_bytes(path("cut.bin"), bytes.data(), bytes.size() - 1);
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("cut.bin")); },
                                {"cut.bin", "truncated", "10 tokens", "1043 bytes"}));
}

TEST_F(TokenShardTest, TrailingBytes) {
  auto bytes = raw(20240520, 1, 10, 11);
  test::write_bytes(path("long.bin"), bytes.data(), bytes.size());
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("long.bin")); },
                                {"long.bin", "trailing bytes", "1046 bytes"}));
}

TEST_F(TokenShardTest, DirectoryIsNotAShard) {
  std::filesystem::create_directory(path("sub.bin"));
  EXPECT_TRUE(throws_error_with([&] { TokenShard::open(path("sub.bin")); }, {"sub.bin", "not a regular file"}));
}

TEST_F(TokenShardTest, WriteIntoMissingDirectoryFails) {
  std::vector<uint16_t> t = test::iota_tokens(4);
  EXPECT_TRUE(throws_error_with([&] { write_token_shard(path("no/such/dir/a.bin"), t.data(), 4); },
                                {"a.bin.tmp", "cannot create"}));
}

}  // namespace
}  // namespace cairn::data

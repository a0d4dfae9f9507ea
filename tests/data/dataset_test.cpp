// tests/data/dataset_test.cpp — pattern resolution, validation errors, window contents and
// the dataset identity that checkpoints record.
#include "data/dataset.h"

#include <filesystem>

#include "data_test_util.h"

namespace cairn::data {
namespace {

using test::throws_error_with;

class DatasetTest : public test::TempDirTest {
 protected:
  void shard(const std::string& name, const std::vector<uint16_t>& tokens) {
    write_token_shard(path(name), tokens.data(), int64_t(tokens.size()));
  }
  static std::vector<std::string> names(const TokenDataset& ds) {
    std::vector<std::string> out;
    for (const ShardIdentity& s : ds.identity().shards) out.push_back(s.name);
    return out;
  }
};

TEST_F(DatasetTest, FileDirectoryAndGlobPatterns) {
  shard("train_000001.bin", test::iota_tokens(50));
  shard("train_000000.bin", test::iota_tokens(60));
  shard("val_000000.bin", test::iota_tokens(40));
  test::write_text(path("notes.txt"), "not a shard");

  using V = std::vector<std::string>;
  EXPECT_EQ(names(TokenDataset::open(path("train_000001.bin"), 256, 8)), V{"train_000001.bin"});
  EXPECT_EQ(names(TokenDataset::open(dir_.string(), 256, 8)),
            (V{"train_000000.bin", "train_000001.bin", "val_000000.bin"}));
  EXPECT_EQ(names(TokenDataset::open(path("train_*.bin"), 256, 8)), (V{"train_000000.bin", "train_000001.bin"}));
  EXPECT_EQ(names(TokenDataset::open(path("val_*"), 256, 8)), V{"val_000000.bin"});
}

TEST_F(DatasetTest, NothingMatches) {
  EXPECT_TRUE(throws_error_with([&] { TokenDataset::open(path("train_*.bin"), 256, 8); },
                                {path("train_*.bin"), "no token shard files match"}));
  EXPECT_TRUE(throws_error_with([&] { TokenDataset::open(path("missing.bin"), 256, 8); }, {"missing.bin"}));
  EXPECT_TRUE(throws_error_with([&] { TokenDataset::open(dir_.string(), 256, 8); },
                                {dir_.string(), "no *.bin token shards"}));
}

TEST_F(DatasetTest, WindowsCoverEachShardWithoutCrossing) {
  const int T = 4;
  // Shard a: 14 tokens -> (14-1)/4 = 3 windows; shard b: 9 tokens -> 2 windows.
  shard("a.bin", test::iota_tokens(14, 100));
  shard("b.bin", test::iota_tokens(9, 200));
  TokenDataset ds = TokenDataset::open(dir_.string(), 256, T);
  ASSERT_EQ(ds.n_windows(), 5);
  const int want_first[5] = {100, 104, 108, 200, 204};
  std::vector<int32_t> in(T), tg(T);
  for (int w = 0; w < 5; ++w) {
    ds.window(w, in.data(), tg.data());
    for (int i = 0; i < T; ++i) {
      EXPECT_EQ(in[size_t(i)], want_first[w] + i) << "window " << w;
      EXPECT_EQ(tg[size_t(i)], want_first[w] + i + 1) << "window " << w;
    }
  }
  EXPECT_THROW(ds.window(5, in.data(), tg.data()), Error);
  EXPECT_THROW(ds.window(-1, in.data(), tg.data()), Error);
}

TEST_F(DatasetTest, ExactFitShardHasOneWindow) {
  shard("a.bin", test::iota_tokens(9));  // seq_len 8 needs exactly 9 tokens
  EXPECT_EQ(TokenDataset::open(path("a.bin"), 256, 8).n_windows(), 1);
}

TEST_F(DatasetTest, TokenOutOfVocabulary) {
  std::vector<uint16_t> t = test::iota_tokens(100, 0, 50);
  t[77] = 300;
  shard("big.bin", t);
  EXPECT_TRUE(throws_error_with([&] { TokenDataset::open(path("big.bin"), 256, 8); },
                                {"big.bin", "token 300", "position 77", "vocab_size 256"}));
  EXPECT_NO_THROW(TokenDataset::open(path("big.bin"), 301, 8));
}

TEST_F(DatasetTest, TooFewTokensForOneSequence) {
  shard("a.bin", test::iota_tokens(100));
  shard("b.bin", test::iota_tokens(8));
  EXPECT_TRUE(throws_error_with([&] { TokenDataset::open(dir_.string(), 256, 8); },
                                {"b.bin", "too few tokens for one sequence", "need seq_len+1 = 9"}));
}

TEST_F(DatasetTest, CorruptShardInDirectoryIsNamed) {
  shard("a.bin", test::iota_tokens(100));
  test::write_text(path("b.bin"), std::string(2000, 'x'));
  EXPECT_TRUE(throws_error_with([&] { TokenDataset::open(dir_.string(), 256, 8); }, {"b.bin", "not a token shard"}));
}

TEST_F(DatasetTest, IdentityJsonRoundTripAndDifferences) {
  shard("train_000000.bin", test::iota_tokens(100));
  shard("train_000001.bin", test::iota_tokens(120));
  const DatasetIdentity id = TokenDataset::open(dir_.string(), 256, 8).identity();
  ASSERT_EQ(id.shards.size(), 2u);
  EXPECT_EQ(id.shards[1].name, "train_000001.bin");
  EXPECT_EQ(id.shards[1].bytes, 1024 + 240);
  EXPECT_EQ(id.combined, combine_identity(id.shards));

  const DatasetIdentity back = DatasetIdentity::from_json(nlohmann::json::parse(id.to_json().dump()));
  EXPECT_EQ(back, id);
  EXPECT_EQ(describe_difference(id, back), "");

  // Same size, different content.
  shard("train_000001.bin", test::iota_tokens(120, 1));
  DatasetIdentity changed = TokenDataset::open(dir_.string(), 256, 8).identity();
  EXPECT_NE(changed, id);
  EXPECT_NE(describe_difference(id, changed).find("train_000001.bin content hash"), std::string::npos);

  shard("train_000001.bin", test::iota_tokens(130));
  changed = TokenDataset::open(dir_.string(), 256, 8).identity();
  EXPECT_EQ(describe_difference(id, changed), "train_000001.bin size 1264 != 1284");

  shard("train_000001.bin", test::iota_tokens(120));
  shard("train_000002.bin", test::iota_tokens(120));
  changed = TokenDataset::open(dir_.string(), 256, 8).identity();
  EXPECT_EQ(describe_difference(id, changed), "2 shards != 3 shards");

  // The directory can move: identity uses base names only.
  std::filesystem::create_directory(path("moved"));
  std::filesystem::rename(path("train_000002.bin"), path("moved/x"));
  std::filesystem::rename(path("train_000000.bin"), path("moved/train_000000.bin"));
  std::filesystem::rename(path("train_000001.bin"), path("moved/train_000001.bin"));
  EXPECT_EQ(TokenDataset::open(path("moved/*.bin"), 256, 8).identity(), id);
}

TEST_F(DatasetTest, MalformedIdentityJson) {
  EXPECT_TRUE(throws_error_with([] { DatasetIdentity::from_json(nlohmann::json::array(), "m.json"); },
                                {"m.json", "malformed dataset identity"}));
  nlohmann::json j = {{"combined", "00"}, {"shards", nlohmann::json::array()}};
  EXPECT_TRUE(throws_error_with([&] { DatasetIdentity::from_json(j, "m.json"); }, {"m.json", "'combined'"}));
  DatasetIdentity id;
  id.shards.push_back({"a.bin", 10, 42});
  id.combined = combine_identity(id.shards) ^ 1;  // tampered
  EXPECT_TRUE(throws_error_with([&] { DatasetIdentity::from_json(id.to_json(), "m.json"); },
                                {"m.json", "does not match"}));
}

}  // namespace
}  // namespace cairn::data

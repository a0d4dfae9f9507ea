// tests/data/prepare_test.cpp — byte-level preparation round-trips the text exactly and
// produces shards the dataset opens; bad inputs give clear errors.
#include "data/prepare.h"

#include <filesystem>

#include "data/dataset.h"
#include "data_test_util.h"

namespace cairn::data {
namespace {

using test::throws_error_with;

class PrepareTest : public test::TempDirTest {
 protected:
  // Concatenated tokens of out/<split>_000000.bin, _000001.bin, ... decoded as bytes.
  std::string read_split(const std::string& out, const std::string& split, int n_shards,
                         std::vector<int64_t>* sizes = nullptr) {
    std::string text;
    for (int i = 0; i < n_shards; ++i) {
      TokenShard s = TokenShard::open(str(out, "/", split, "_00000", i, ".bin"));
      std::vector<int32_t> t(s.tokens(), s.tokens() + s.n_tokens());
      text += decode_bytes(t.data(), int(t.size()));
      if (sizes) sizes->push_back(s.n_tokens());
    }
    EXPECT_FALSE(std::filesystem::exists(str(out, "/", split, "_00000", n_shards, ".bin")));
    return text;
  }
};

TEST_F(PrepareTest, RoundTripSplitsAndShards) {
  std::string a, b;
  for (int i = 0; i < 300; ++i) a += str("line ", i, " of the first file\n");
  for (int i = 0; i < 256; ++i) b.push_back(char(i));  // every byte value, NUL included
  b += "caf\xc3\xa9\n";
  test::write_text(path("a.txt"), a);
  test::write_text(path("b.txt"), b);
  const std::string out = path("out/nested");

  PrepareStats st = prepare_text({path("a.txt"), path("b.txt")}, out, 0.1, 1000);
  const std::string all = a + b;
  EXPECT_EQ(st.input_bytes, int64_t(all.size()));
  EXPECT_EQ(st.val_tokens, int64_t(all.size()) / 10);
  EXPECT_EQ(st.train_tokens + st.val_tokens, st.input_bytes);
  EXPECT_EQ(st.train_shards, int((st.train_tokens + 999) / 1000));
  EXPECT_EQ(st.val_shards, 1);

  std::vector<int64_t> sizes;
  EXPECT_EQ(read_split(out, "train", st.train_shards, &sizes), all.substr(0, size_t(st.train_tokens)));
  EXPECT_EQ(read_split(out, "val", st.val_shards), all.substr(size_t(st.train_tokens)));
  for (int64_t n : sizes) {  // near-equal, none over the limit
    EXPECT_LE(n, 1000);
    EXPECT_GE(n, sizes[0] - 1);
  }
  EXPECT_EQ(TokenDataset::open(out + "/train_*.bin", kByteVocabSize, 64).identity().shards.size(),
            size_t(st.train_shards));
}

TEST_F(PrepareTest, RerunRemovesStaleShards) {
  test::write_text(path("big.txt"), std::string(5000, 'x'));
  test::write_text(path("small.txt"), std::string(500, 'y'));
  EXPECT_EQ(prepare_text({path("big.txt")}, path("out"), 0.1, 1000).train_shards, 5);
  PrepareStats st = prepare_text({path("small.txt")}, path("out"), 0.0, 1000);
  EXPECT_EQ(st.train_shards, 1);
  EXPECT_EQ(st.val_shards, 0);
  EXPECT_EQ(read_split(path("out"), "train", 1), std::string(500, 'y'));
  EXPECT_FALSE(std::filesystem::exists(path("out/val_000000.bin")));
}

TEST_F(PrepareTest, Errors) {
  test::write_text(path("a.txt"), "hello world, this is enough text");
  EXPECT_TRUE(throws_error_with([&] { prepare_text({path("a.txt"), path("missing.txt")}, path("out")); },
                                {"missing.txt", "cannot read"}));
  EXPECT_FALSE(std::filesystem::exists(path("out")));  // nothing written on a bad input
  EXPECT_TRUE(throws_error_with([&] { prepare_text({dir_.string()}, path("out")); }, {"not a regular file"}));
  test::write_text(path("tiny.txt"), "abc");
  EXPECT_TRUE(throws_error_with([&] { prepare_text({path("tiny.txt")}, path("out")); }, {"too little data"}));
  EXPECT_TRUE(throws_error_with([&] { prepare_text({path("a.txt")}, path("out"), 1.5); }, {"val fraction"}));
  test::write_text(path("file"), "x");
  EXPECT_TRUE(throws_error_with([&] { prepare_text({path("a.txt")}, path("file/out")); },
                                {"file/out", "cannot create output directory"}));
}

TEST(DecodeBytes, OutOfRangeTokensRenderAsQuestionMarks) {
  const int32_t t[] = {'h', 'i', 256, -1, 65535, 0, 255};
  EXPECT_EQ(decode_bytes(t, 7), std::string("hi???\0\xff", 7));
}

}  // namespace
}  // namespace cairn::data

// tests/data/tokenizer_test.cpp — the parts of data/tokenizer.h that a small hand-made
// tokenizer can pin down: merge order by rank, added tokens, UTF-8 repair as Python does it,
// the \s translation for PCRE2, parallel == serial encoding, refusal of what is not supported.
// Exactness against `tokenizers` and `tiktoken` on real text: tests/integration/tokenizer.sh.
#include "data/tokenizer.h"

#include <gtest/gtest.h>

#include "data/byte_level.h"
#include "data_test_util.h"
#include "data/tokenizer_regex.h"

namespace cairn::data {
namespace {

// "Ġ" is the byte-level character of the space. Merges are listed so that rank order differs
// from left-to-right order: "abc" is (b c) first, then (a bc).
const char* kTinyJson = R"({
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
  "decoder": {"type": "ByteLevel"},
  "added_tokens": [{"id": 7, "content": "<|endoftext|>", "special": true}],
  "model": {"type": "BPE", "dropout": null, "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "Ġ": 6, "\n": 8, "Ċ": 9},
            "merges": ["b c", "a b", ["a", "bc"]]}
})";

class TokenizerTest : public test::TempDirTest {
 protected:
  Tokenizer load(const std::string& json) {
    test::write_text(path("tokenizer.json"), json);
    return Tokenizer::load(path("tokenizer.json"));
  }
};

TEST_F(TokenizerTest, MergesApplyByRankNotPosition) {
  Tokenizer tok = load(kTinyJson);
  EXPECT_EQ(tok.encode("abc"), (std::vector<int32_t>{5}));  // left to right would give ab, c = 3, 2
  EXPECT_EQ(tok.encode("ab abc"), (std::vector<int32_t>{3, 6, 5}));
  EXPECT_EQ(tok.encode("<|endoftext|>ab"), (std::vector<int32_t>{7, 3}));
  EXPECT_EQ(tok.encode("xab"), (std::vector<int32_t>{3}));  // bytes without a token are dropped, as tokenizers does
  EXPECT_EQ(tok.eot_id(), 7);
  EXPECT_EQ(tok.vocab_size(), 10);
  const std::vector<int32_t> ids = {5, 6, 3, 7, 9};
  EXPECT_EQ(tok.decode(ids.data(), ids.size()), "abc ab<|endoftext|>\n");
}

TEST_F(TokenizerTest, ParallelEncodingEqualsSerial) {
  Tokenizer tok = load(kTinyJson);
  std::string text;
  for (int i = 0; text.size() < 700'000; ++i) text += (i % 3 ? "abc ab\n\nabc\n" : "ab  \nc\tabc!\n");
  std::vector<int32_t> parallel;
  tok.encode_parallel(text, &parallel);
  EXPECT_EQ(parallel, tok.encode(text));
}

// Qwen2's normalizer: "e" + U+0301 (combining acute) is "é" (C3 A9) before byte-level BPE,
// whose bytes are the vocabulary's "Ã" (U+00C3) and "©" (U+00A9); without the normalizer the
// decomposed bytes have no tokens and are dropped, as tokenizers drops them.
TEST_F(TokenizerTest, NfcNormalizerComposesBeforePreTokenizing) {
  std::string with_bytes = kTinyJson;
  const std::string last = "\"Ċ\": 9";
  with_bytes.replace(with_bytes.find(last), last.size(), last + ", \"Ã\": 10, \"©\": 11");
  std::string nfc = with_bytes;
  nfc.replace(nfc.find("\"normalizer\": null"), 18, R"("normalizer": {"type": "NFC"})");
  EXPECT_EQ(load(nfc).encode("e\xcc\x81"), (std::vector<int32_t>{10, 11}));
  EXPECT_EQ(load(nfc).encode("\xc3\xa9<|endoftext|>e\xcc\x81"), (std::vector<int32_t>{10, 11, 7, 10, 11}));
  EXPECT_EQ(load(with_bytes).encode("e\xcc\x81"), (std::vector<int32_t>{}));
  EXPECT_EQ(load(with_bytes).encode("\xc3\xa9"), (std::vector<int32_t>{10, 11}));
}

TEST_F(TokenizerTest, UnsupportedPartsAreRefusedByName) {
  std::string nfkc = kTinyJson;
  nfkc.replace(nfkc.find("\"normalizer\": null"), 18, R"("normalizer": {"type": "NFKC"})");
  EXPECT_TRUE(test::throws_error_with([&] { load(nfkc); }, {"normalizer 'NFKC' is not supported (none, or NFC"}));
  std::string no_eot = kTinyJson;
  no_eot.replace(no_eot.find("<|endoftext|>"), 13, "<|pad|>");
  EXPECT_TRUE(test::throws_error_with([&] { load(no_eot); }, {"no end-of-text token"}));
}

TEST(ByteLevel, InvalidUtf8IsReplacedAsPythonDoes) {
  // Expected values: bytes.decode("utf-8", errors="replace") of each input.
  const std::string r = "\xef\xbf\xbd";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xff", r}, {"\xc3(", r + "("}, {"\xe2\x82", r}, {"\xed\xa0\x80", r + r + r}, {"\xf0\x9f\x98", r},
      {"a\xc0\xaf" "b", "a" + r + r + "b"}, {"\xf4\x90\x80\x80", r + r + r + r}};
  for (const auto& [in, want] : cases) {
    std::string out;
    EXPECT_TRUE(replace_invalid_utf8(in, &out));
    EXPECT_EQ(out, want);
  }
  std::string untouched;
  EXPECT_FALSE(replace_invalid_utf8("ok \xe2\x82\xac \xf0\x9f\x91\x8d", &untouched));
}

TEST(ByteLevel, GptTwoByteAlphabet) {
  EXPECT_EQ(byte_to_unicode()[' '], "\xc4\xa0");  // Ġ
  EXPECT_EQ(byte_to_unicode()['\n'], "\xc4\x8a");  // Ċ
  EXPECT_EQ(byte_to_unicode()['a'], "a");
  std::string bytes;
  ASSERT_TRUE(unicode_to_bytes("\xc4\xa0hi\xc4\x8a", &bytes));
  EXPECT_EQ(bytes, " hi\n");
  EXPECT_FALSE(unicode_to_bytes("\xe4\xbd\xa0", &bytes));  // 你 is not a byte character
}

TEST(TokenizerRegex, WhitespaceIncludesNelAsRustDoes) {
  EXPECT_EQ(TokenizerRegex::translate(R"(\s+(?!\S)|[^\s\p{L}])"), R"([\s\x{85}]+(?![^\s\x{85}])|[^\s\x{85}\p{L}])");
  TokenizerRegex re(kGpt2Pattern);
  const std::string text = "a\xc2\x85 b";  // U+0085 is White_Space: "a", "\u0085", " b"
  size_t b = 0, e = 0;
  ASSERT_TRUE(re.find(text, 1, &b, &e));
  EXPECT_EQ(text.substr(b, e - b), "\xc2\x85");
}

}  // namespace
}  // namespace cairn::data

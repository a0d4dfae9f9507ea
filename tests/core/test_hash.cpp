// tests/core/test_hash.cpp — SHA-256 and XXH3-64 against published vectors; streaming over
// any split equals one-shot; hex helpers round-trip and reject malformed input.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/hash.h"

namespace cairn {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, StreamingEqualsOneShotForAnySplit) {
  std::mt19937 rng(7);
  std::string data(100003, '\0');
  for (char& c : data) c = char(rng());
  const std::string want = sha256_hex(data);
  for (size_t step : {size_t(1), size_t(63), size_t(64), size_t(4097), data.size()}) {
    Sha256 h;
    for (size_t pos = 0; pos < data.size(); pos += step) h.update(data.data() + pos, std::min(step, data.size() - pos));
    EXPECT_EQ(h.finish_hex(), want) << "split " << step;
  }
  Sha256 h;
  h.update("junk");
  h.reset();
  h.update(data);
  EXPECT_EQ(to_hex(h.finish()), want);
  Sha256 moved = std::move(h);
  moved.reset();
  moved.update("abc");
  EXPECT_EQ(moved.finish_hex(), sha256_hex("abc"));
}

TEST(Xxh3, KnownVectorAndStreaming) {
  EXPECT_EQ(xxh3_64("", 0), 0x2D06800538D394C2ull);
  std::string data(70000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = char(i * 31 + 7);
  const uint64_t want = xxh3_64(data.data(), data.size());
  Xxh3 h;
  for (size_t pos = 0; pos < data.size(); pos += 1000) h.update(data.data() + pos, std::min<size_t>(1000, data.size() - pos));
  EXPECT_EQ(h.digest(), want);
  h.reset();
  EXPECT_EQ(h.digest(), xxh3_64("", 0));
}

TEST(Hex, RoundTripsAndRejectsMalformed) {
  EXPECT_EQ(hex_u64(0x0123456789abcdefull), "0123456789abcdef");
  EXPECT_EQ(hex_u64(0), "0000000000000000");
  uint64_t v = 0;
  EXPECT_TRUE(parse_hex_u64("0123456789abcdef", &v));
  EXPECT_EQ(v, 0x0123456789abcdefull);
  EXPECT_FALSE(parse_hex_u64("0123456789ABCDEF", &v));  // lowercase only
  EXPECT_FALSE(parse_hex_u64("0123456789abcde", &v));
  EXPECT_FALSE(parse_hex_u64("0123456789abcdeg", &v));
  const uint8_t raw[3] = {0x00, 0x7f, 0xff};
  EXPECT_EQ(to_hex(raw, 3), "007fff");
  uint8_t back[3];
  EXPECT_TRUE(from_hex("007fff", back, 3));
  EXPECT_EQ(back[2], 0xff);
  EXPECT_FALSE(from_hex("007ff", back, 3));
}

}  // namespace
}  // namespace cairn

// tests/fuzz/fuzz_token_shard.cpp — libFuzzer harness for the llm.c token-shard reader
// (data/token_shard.cpp: TokenShard::open, a validated mmap) and the data set built on it
// (data/dataset.cpp: TokenDataset::open checks every token against the vocabulary).
// Input: a whole shard file. Every input must be refused with cairn::Error or give a shard
// of exactly 1024 + 2n bytes whose n tokens can all be read. Build and run: README.md.
#include "core/error.h"
#include "data/dataset.h"
#include "data/token_shard.h"
#include "fuzz_util.h"

using namespace cairn::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cairn::fuzz::MemFile file;
  const std::string& path = file.set(data, size);
  try {
    TokenShard s = TokenShard::open(path);
    FUZZ_ASSERT(s.n_tokens() >= 0 && s.file_bytes() == int64_t(size));
    FUZZ_ASSERT(kShardHeaderBytes + 2 * s.n_tokens() == s.file_bytes());
    uint64_t sum = 0;
    for (int64_t i = 0; i < s.n_tokens(); ++i) sum += s.tokens()[i];
    FUZZ_ASSERT(sum <= uint64_t(s.n_tokens()) * 65535);
    cairn::fuzz::input_accepted = true;
  } catch (const cairn::Error&) {
    return 0;
  }
  try {
    TokenDataset d = TokenDataset::open(path, 256, 4);
    FUZZ_ASSERT(d.n_windows() >= 1);
  } catch (const cairn::Error&) {
  }
  return 0;
}

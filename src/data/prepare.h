// data/prepare.h — `cairn data prepare`: text files -> llm.c token shards.
//
// Without a tokenizer every byte is one token, vocab_size 256, so any file (UTF-8 or not)
// round-trips exactly, and inputs are concatenated in the order given. With a BPE tokenizer
// (data/tokenizer.h) each input file is one document, preceded by the end-of-text token as
// llm.c's preparation scripts do; shards are uint16 (version 1) when every id fits and
// uint32 (version 2) otherwise, and a copy of the tokenizer file goes into out_dir so that
// training, sampling and export find the tokenizer that made the data (Tokenizer::find_in).
// The last val_fraction of the tokens is the validation split. Each split is cut into
// ceil(n / shard_tokens) shards of near-equal size (never more than shard_tokens, and no
// tiny trailing shard that could hold less than a sequence):
//   out_dir/train_000000.bin, train_000001.bin, ...   out_dir/val_000000.bin, ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::data {

class Tokenizer;

inline constexpr int kByteVocabSize = 256;

struct PrepareStats {
  int64_t input_bytes = 0;  // = train_tokens + val_tokens without a tokenizer
  int64_t train_tokens = 0;
  int64_t val_tokens = 0;
  int train_shards = 0;
  int val_shards = 0;  // 0 when val_fraction == 0
  int token_bytes = 2;  // 4: uint32 (version 2) shards
};

// Creates out_dir (and parents). Stale train_/val_ shards with higher numbers left by an
// earlier, larger preparation are removed so a directory pattern sees only this data.
// Errors (cairn::Error): a missing or unreadable input, a bad val_fraction or shard_tokens,
// fewer than 2 tokens in a split, an output directory that cannot be created or written.
PrepareStats prepare_text(const std::vector<std::string>& inputs, const std::string& out_dir,
                          double val_fraction = 0.1, int64_t shard_tokens = 100'000'000,
                          const Tokenizer* tokenizer = nullptr);

// Byte-level detokenizer: token t in [0, 256) is byte t; anything else renders as '?'.
std::string decode_bytes(const int32_t* tokens, int n);

}  // namespace cairn::data

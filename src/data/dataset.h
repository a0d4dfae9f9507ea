// data/dataset.h — a set of token shards viewed as fixed-length training windows.
//
// TokenDataset::open(pattern, vocab_size, seq_len) maps every shard the pattern names (a
// file, a directory's *.bin, or a glob; always in byte-wise sorted path order), checks every
// token is < vocab_size and every shard holds at least one window, and records the data's
// identity (names, sizes, xxh3 of each file) for checkpoints.
//
// Windows: with T = seq_len, a shard of n tokens holds (n-1)/T windows; window w covers tokens
// [w*T, w*T+T+1): inputs are the first T, targets the same shifted by one. Windows never
// cross shards. The global window index runs over shards in sorted order, so it depends
// only on the files, never on ranks or threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/token_shard.h"

namespace cairn::data {

struct ShardIdentity {
  std::string name;  // basename: moving the data to another directory keeps its identity
  int64_t bytes = 0;
  uint64_t xxh3 = 0;  // XXH3-64 of the whole file, header included
  bool operator==(const ShardIdentity& o) const {
    return name == o.name && bytes == o.bytes && xxh3 == o.xxh3;
  }
};

struct DatasetIdentity {
  std::vector<ShardIdentity> shards;  // in dataset (sorted) order
  // The tokenizer file beside the shards (data/tokenizer.h); name "" for byte-level data. A
  // changed tokenizer is changed data: resume refuses it.
  ShardIdentity tokenizer;
  uint64_t combined = 0;  // combine_identity(shards, then the tokenizer if any)

  bool operator==(const DatasetIdentity& o) const {
    return shards == o.shards && tokenizer == o.tokenizer && combined == o.combined;
  }
  bool operator!=(const DatasetIdentity& o) const { return !(*this == o); }

  // {"combined": "<16 hex>", "shards": [{"name":..., "bytes":..., "xxh3": "<16 hex>"}, ...]}
  // plus "tokenizer": {"name":..., "bytes":..., "xxh3":...} when the data has one.
  // Hashes are hex strings: JSON numbers lose precision above 2^53 in many readers.
  nlohmann::json to_json() const;
  // `where` names the source (e.g. the manifest file) in the error for malformed input.
  static DatasetIdentity from_json(const nlohmann::json& j, const std::string& where = "dataset identity");
};

// xxh3_64 over (name, NUL, bytes as int64 LE, xxh3 as uint64 LE) of every shard in order,
// then of the tokenizer when it has a name (byte-level data hashes as it always did).
uint64_t combine_identity(const std::vector<ShardIdentity>& shards, const ShardIdentity& tokenizer = {});

// "" when equal; otherwise the first difference, read as "was != now", e.g.
// "train_000001.bin size 1234 != 5678" or "3 shards != 4 shards". The checkpoint reader
// prefixes it with "data changed: ".
std::string describe_difference(const DatasetIdentity& saved, const DatasetIdentity& now);

// The files a pattern names, sorted: an existing file; a directory's regular *.bin files;
// otherwise a glob(3) pattern. Naming nothing is a cairn::Error that names the pattern.
std::vector<std::string> resolve_shard_paths(const std::string& pattern);

class TokenDataset {
 public:
  static TokenDataset open(const std::string& pattern, int vocab_size, int seq_len);

  int seq_len() const { return seq_len_; }
  int vocab_size() const { return vocab_size_; }
  int64_t n_windows() const { return window_begin_.back(); }
  const std::vector<TokenShard>& shards() const { return shards_; }
  const DatasetIdentity& identity() const { return identity_; }
  // The tokenizer file in the first shard's directory (tokenizer.json or NAME.tiktoken, as
  // `data prepare --tokenizer` leaves it), or "" for byte-level data.
  const std::string& tokenizer_path() const { return tokenizer_path_; }

  // Copy window w (0 <= w < n_windows()) into inputs[0..T) and targets[0..T), as int32.
  // Thread-safe: reads only the read-only mappings.
  void window(int64_t w, int32_t* inputs, int32_t* targets) const;

 private:
  std::vector<TokenShard> shards_;
  std::vector<int64_t> window_begin_;  // first global window of shard i; back() = total
  DatasetIdentity identity_;
  std::string tokenizer_path_;
  int vocab_size_ = 0;
  int seq_len_ = 0;
};

}  // namespace cairn::data

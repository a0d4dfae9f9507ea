// data/token_shard.h — llm.c token shards: write one, or map one read-only.
//
// File format (llm.c, dev/data/data_common.py), all little endian:
//   header  256 x int32: [0] magic 20240520, [1] version 1, [2] number of tokens n
//   body    n x uint16 tokens
// so a shard of n tokens is exactly 1024 + 2n bytes. Data sets prepared for llm.c load as
// they are. Shards are written to `path.tmp` and renamed, so a reader never sees a partial one.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::data {

inline constexpr int32_t kShardMagic = 20240520;
inline constexpr int32_t kShardVersion = 1;
inline constexpr int kShardHeaderInts = 256;
inline constexpr int64_t kShardHeaderBytes = kShardHeaderInts * 4;

// Write n tokens (n <= INT32_MAX, the header's count is an int32) to path.
void write_token_shard(const std::string& path, const uint16_t* tokens, int64_t n);

// A validated, read-only, memory-mapped shard. Movable, not copyable; unmaps on destruction.
// open() checks the header and that the file size is exactly 1024 + 2 * n_tokens; every
// failure is a cairn::Error that names the file and what is wrong.
class TokenShard {
 public:
  static TokenShard open(const std::string& path);

  TokenShard(TokenShard&& other) noexcept;
  TokenShard& operator=(TokenShard&& other) noexcept;
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;
  ~TokenShard();

  const std::string& path() const { return path_; }
  int64_t n_tokens() const { return n_tokens_; }
  const uint16_t* tokens() const;
  // The whole file (header included), e.g. for content hashing.
  const uint8_t* file_data() const { return static_cast<const uint8_t*>(map_); }
  int64_t file_bytes() const { return file_bytes_; }

 private:
  TokenShard() = default;
  void release();

  std::string path_;
  void* map_ = nullptr;  // the whole file, PROT_READ; nullptr only when moved from
  int64_t file_bytes_ = 0;
  int64_t n_tokens_ = 0;
};

}  // namespace cairn::data

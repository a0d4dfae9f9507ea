// data/token_shard.h — llm.c token shards: write one, or map one read-only.
//
// File format (llm.c, dev/data/data_common.py), all little endian:
//   header  256 x int32: [0] magic 20240520, [1] version, [2] number of tokens n
//   body    n x uint16 tokens (version 1) or n x uint32 tokens (version 2, llm.c's format for
//           vocabularies over 65536, e.g. Llama 3's)
// so a shard of n tokens is exactly 1024 + 2n (or 4n) bytes. Data sets prepared for llm.c load as
// they are. Shards are written to `path.tmp` and renamed, so a reader never sees a partial one.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::data {

inline constexpr int32_t kShardMagic = 20240520;
inline constexpr int32_t kShardVersion = 1;      // uint16 tokens
inline constexpr int32_t kShardVersionWide = 2;  // uint32 tokens
inline constexpr int kShardHeaderInts = 256;
inline constexpr int64_t kShardHeaderBytes = kShardHeaderInts * 4;

// Write n tokens (n <= INT32_MAX, the header's count is an int32) to path.
void write_token_shard(const std::string& path, const uint16_t* tokens, int64_t n);
void write_token_shard(const std::string& path, const uint32_t* tokens, int64_t n);  // version 2

// A validated, read-only, memory-mapped shard. Movable, not copyable; unmaps on destruction.
// open() checks the header and that the file size is exactly 1024 + width * n_tokens; every
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
  int token_bytes() const { return token_bytes_; }  // 2 (version 1) or 4 (version 2)
  const uint16_t* tokens() const;    // version 1 only
  const uint32_t* tokens32() const;  // version 2 only
  uint32_t token(int64_t i) const {  // either version
    return token_bytes_ == 2 ? tokens_at<uint16_t>()[i] : tokens_at<uint32_t>()[i];
  }
  // The whole file (header included), e.g. for content hashing.
  const uint8_t* file_data() const { return static_cast<const uint8_t*>(map_); }
  int64_t file_bytes() const { return file_bytes_; }

 private:
  TokenShard() = default;
  void release();
  template <typename T>
  const T* tokens_at() const {
    return reinterpret_cast<const T*>(static_cast<const uint8_t*>(map_) + kShardHeaderBytes);
  }

  std::string path_;
  void* map_ = nullptr;  // the whole file, PROT_READ; nullptr only when moved from
  int64_t file_bytes_ = 0;
  int64_t n_tokens_ = 0;
  int token_bytes_ = 2;
};

}  // namespace cairn::data

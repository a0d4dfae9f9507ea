// core/hash.h — the hashes cairn relies on, behind one small interface.
//
// SHA-256 (OpenSSL EVP) identifies state: the checkpoint logical hash and per-chunk digests.
// XXH3-64 (xxhash) is the fast integrity checksum of file pieces and data shards; XXH3-128
// identifies the 16 KiB chunks under the logical hash (format version 4) and incremental
// saves' pieces. xxhash is compiled inline here, so it uses the vector instructions the build
// targets (AVX-512 with -march=native on this machine: twice the speed of the distribution's
// SSE2 library); the values do not depend on the instructions.
// Both come as one-shot functions and streaming objects; streaming over any split of the
// input gives the same digest as one call over all of it. Hex strings are lowercase.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn {

using Sha256Digest = std::array<uint8_t, 32>;

// Streaming SHA-256. Not copyable; finish() may be called once, after which the object can
// only be reset().
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;

  void reset();
  void update(const void* data, size_t bytes);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Sha256Digest finish();
  std::string finish_hex();

 private:
  void* ctx_ = nullptr;  // EVP_MD_CTX*
};

Sha256Digest sha256(const void* data, size_t bytes);
std::string sha256_hex(const void* data, size_t bytes);
inline std::string sha256_hex(std::string_view s) { return sha256_hex(s.data(), s.size()); }

// XXH3-64 with seed 0.
uint64_t xxh3_64(const void* data, size_t bytes);

class Xxh3 {
 public:
  Xxh3();
  ~Xxh3();
  Xxh3(const Xxh3&) = delete;
  Xxh3& operator=(const Xxh3&) = delete;

  void reset();
  void update(const void* data, size_t bytes);
  uint64_t digest() const;  // may be called at any point; does not end the stream

 private:
  void* state_ = nullptr;  // XXH3_state_t*
};

// XXH3-128 with seed 0, and its canonical form: 16 bytes, most significant first (what
// XXH128_canonicalFromHash writes; hex of it is the 32 digits xxhsum -H2 prints).
using Hash128 = std::array<uint8_t, 16>;
Hash128 xxh3_128(const void* data, size_t bytes);

class Xxh3_128 {
 public:
  Xxh3_128();
  ~Xxh3_128();
  Xxh3_128(const Xxh3_128&) = delete;
  Xxh3_128& operator=(const Xxh3_128&) = delete;

  void reset();
  void update(const void* data, size_t bytes);
  Hash128 digest() const;  // may be called at any point; does not end the stream

 private:
  void* state_ = nullptr;  // XXH3_state_t*
};

// Lowercase hex of raw bytes, and back (false on odd length or non-hex characters).
std::string to_hex(const void* data, size_t bytes);
bool from_hex(std::string_view hex, void* out, size_t out_bytes);
inline std::string to_hex(const Sha256Digest& d) { return to_hex(d.data(), d.size()); }

// A 64-bit value as exactly 16 lowercase hex digits (most significant first), and back.
// JSON numbers lose precision above 2^53 in many readers, so 64-bit hashes travel as hex.
std::string hex_u64(uint64_t v);
bool parse_hex_u64(std::string_view hex, uint64_t* out);  // exactly 16 lowercase hex digits

}  // namespace cairn

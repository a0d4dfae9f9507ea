// core/hash.cpp — SHA-256 over OpenSSL EVP, XXH3-64 and XXH3-128 over xxhash, hex helpers.
#include "core/hash.h"

#include <cstring>

#include <openssl/evp.h>
// Inline: the hashes are compiled for the build's instruction set (see hash.h). GCC 12 warns
// about its own AVX-512 intrinsics' deliberately uninitialized temporaries once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <utility>

#include "core/error.h"

namespace cairn {
namespace {

// Fetched once: an implicit fetch per EVP_DigestInit costs more than hashing a 16 KB chunk.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  CAIRN_CHECK(md != nullptr, "OpenSSL: SHA-256 is not available (check the OpenSSL installation)");
  return md;
}

EVP_MD_CTX* as_ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  CAIRN_CHECK(ctx_ != nullptr, "OpenSSL: out of memory creating a SHA-256 context");
  reset();
}

Sha256::~Sha256() { EVP_MD_CTX_free(as_ctx(ctx_)); }

Sha256::Sha256(Sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(as_ctx(ctx_));
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

void Sha256::reset() {
  CAIRN_CHECK(EVP_DigestInit_ex(as_ctx(ctx_), sha256_md(), nullptr) == 1, "OpenSSL: SHA-256 init failed");
}

void Sha256::update(const void* data, size_t bytes) {
  CAIRN_CHECK(EVP_DigestUpdate(as_ctx(ctx_), data, bytes) == 1, "OpenSSL: SHA-256 update failed");
}

Sha256Digest Sha256::finish() {
  Sha256Digest d{};
  unsigned int n = 0;
  CAIRN_CHECK(EVP_DigestFinal_ex(as_ctx(ctx_), d.data(), &n) == 1 && n == d.size(),
              "OpenSSL: SHA-256 final failed");
  return d;
}

std::string Sha256::finish_hex() { return to_hex(finish()); }

Sha256Digest sha256(const void* data, size_t bytes) {
  Sha256Digest d{};
  unsigned int n = 0;
  CAIRN_CHECK(EVP_Digest(data, bytes, d.data(), &n, sha256_md(), nullptr) == 1 && n == d.size(),
              "OpenSSL: SHA-256 failed");
  return d;
}

std::string sha256_hex(const void* data, size_t bytes) { return to_hex(sha256(data, bytes)); }

uint64_t xxh3_64(const void* data, size_t bytes) { return XXH3_64bits(data, bytes); }

Xxh3::Xxh3() : state_(XXH3_createState()) {
  CAIRN_CHECK(state_ != nullptr, "xxhash: out of memory creating an XXH3 state");
  reset();
}

Xxh3::~Xxh3() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void Xxh3::reset() { XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_)); }

void Xxh3::update(const void* data, size_t bytes) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data, bytes);
}

uint64_t Xxh3::digest() const { return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_)); }

namespace {
Hash128 canonical(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  Hash128 out;
  std::memcpy(out.data(), c.digest, out.size());
  return out;
}
}  // namespace

Hash128 xxh3_128(const void* data, size_t bytes) { return canonical(XXH3_128bits(data, bytes)); }

Xxh3_128::Xxh3_128() : state_(XXH3_createState()) {
  CAIRN_CHECK(state_ != nullptr, "xxhash: out of memory creating an XXH3 state");
  reset();
}

Xxh3_128::~Xxh3_128() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void Xxh3_128::reset() { XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_)); }

void Xxh3_128::update(const void* data, size_t bytes) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), data, bytes);
}

Hash128 Xxh3_128::digest() const { return canonical(XXH3_128bits_digest(static_cast<const XXH3_state_t*>(state_))); }

std::string to_hex(const void* data, size_t bytes) {
  static const char* digits = "0123456789abcdef";
  const auto* p = static_cast<const uint8_t*>(data);
  std::string s(2 * bytes, '0');
  for (size_t i = 0; i < bytes; ++i) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 15];
  }
  return s;
}

bool from_hex(std::string_view hex, void* out, size_t out_bytes) {
  if (hex.size() != 2 * out_bytes) return false;
  auto* p = static_cast<uint8_t*>(out);
  for (size_t i = 0; i < out_bytes; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    p[i] = uint8_t(hi * 16 + lo);
  }
  return true;
}

std::string hex_u64(uint64_t v) {
  uint8_t be[8];
  for (int i = 0; i < 8; ++i) be[i] = uint8_t(v >> (56 - 8 * i));
  return to_hex(be, 8);
}

bool parse_hex_u64(std::string_view hex, uint64_t* out) {
  uint8_t be[8];
  if (!from_hex(hex, be, 8)) return false;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | be[i];
  *out = v;
  return true;
}

}  // namespace cairn

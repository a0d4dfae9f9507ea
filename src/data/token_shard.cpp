// data/token_shard.cpp — writing and mapping llm.c token shards (format in token_shard.h).
#include "data/token_shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "core/error.h"

namespace cairn::data {

// Tokens and header words are used in place from the mapping, so the host must be little
// endian like the file (x86-64 and AArch64 Linux are).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "token shards assume a little-endian host");

namespace {

void write_shard(const std::string& path, int32_t version, const void* tokens, size_t token_bytes, int64_t n) {
  CAIRN_CHECK(n >= 0 && n <= std::numeric_limits<int32_t>::max(), path, ": cannot write ", n,
              " tokens in one shard (the llm.c header holds at most 2^31-1); split the data");
  int32_t header[kShardHeaderInts] = {};
  header[0] = kShardMagic;
  header[1] = version;
  header[2] = int32_t(n);

  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  CAIRN_CHECK(f, tmp, ": cannot create (", std::strerror(errno),
              "); check that the directory exists and is writable");
  bool ok = std::fwrite(header, sizeof(header), 1, f) == 1;
  if (ok && n > 0) ok = std::fwrite(tokens, token_bytes, size_t(n), f) == size_t(n);
  ok = std::fflush(f) == 0 && ok;
  int saved_errno = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    CAIRN_FAIL(tmp, ": write failed (", std::strerror(saved_errno), "); check free disk space");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    saved_errno = errno;
    std::remove(tmp.c_str());
    CAIRN_FAIL(path, ": cannot rename ", tmp, " into place (", std::strerror(saved_errno), ")");
  }
}

}  // namespace

void write_token_shard(const std::string& path, const uint16_t* tokens, int64_t n) {
  write_shard(path, kShardVersion, tokens, sizeof(uint16_t), n);
}

void write_token_shard(const std::string& path, const uint32_t* tokens, int64_t n) {
  write_shard(path, kShardVersionWide, tokens, sizeof(uint32_t), n);
}

TokenShard TokenShard::open(const std::string& path) {
  TokenShard shard;
  shard.path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  CAIRN_CHECK(fd >= 0, path, ": cannot open token shard (", std::strerror(errno), ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    CAIRN_FAIL(path, ": not a regular file; give a token shard (.bin) or a directory of them");
  }
  shard.file_bytes_ = st.st_size;
  if (shard.file_bytes_ < kShardHeaderBytes) {
    ::close(fd);
    CAIRN_FAIL(path, ": too small for a token shard header (", shard.file_bytes_,
               " bytes, need at least ", kShardHeaderBytes, "); the file is truncated or not a shard");
  }
  void* map = ::mmap(nullptr, size_t(shard.file_bytes_), PROT_READ, MAP_PRIVATE, fd, 0);
  int saved_errno = errno;
  ::close(fd);  // the mapping keeps the file alive
  CAIRN_CHECK(map != MAP_FAILED, path, ": cannot memory-map (", std::strerror(saved_errno), ")");
  shard.map_ = map;  // from here on the destructor unmaps, also when a check below throws

  const int32_t* header = static_cast<const int32_t*>(map);
  CAIRN_CHECK(header[0] == kShardMagic, path, ": not a token shard (magic ", header[0],
              ", expected ", kShardMagic, ")");
  CAIRN_CHECK(header[1] == kShardVersion || header[1] == kShardVersionWide, path,
              ": unsupported token shard version ", header[1], " (expected ", kShardVersion, " for uint16 or ",
              kShardVersionWide, " for uint32 tokens)");
  shard.token_bytes_ = header[1] == kShardVersion ? 2 : 4;
  const int64_t n = header[2];
  CAIRN_CHECK(n >= 0, path, ": corrupt header: negative token count ", n);
  const int64_t expected = kShardHeaderBytes + shard.token_bytes_ * n;
  CAIRN_CHECK(shard.file_bytes_ >= expected, path, ": truncated: header says ", n, " tokens (",
              expected, " bytes) but the file has ", shard.file_bytes_, " bytes; prepare it again");
  CAIRN_CHECK(shard.file_bytes_ <= expected, path, ": trailing bytes: header says ", n,
              " tokens (", expected, " bytes) but the file has ", shard.file_bytes_,
              " bytes; prepare it again");
  shard.n_tokens_ = n;
  return shard;
}

TokenShard::TokenShard(TokenShard&& other) noexcept { *this = std::move(other); }

TokenShard& TokenShard::operator=(TokenShard&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    map_ = std::exchange(other.map_, nullptr);
    file_bytes_ = std::exchange(other.file_bytes_, 0);
    n_tokens_ = std::exchange(other.n_tokens_, 0);
    token_bytes_ = other.token_bytes_;
  }
  return *this;
}

TokenShard::~TokenShard() { release(); }

void TokenShard::release() {
  if (map_) ::munmap(map_, size_t(file_bytes_));
  map_ = nullptr;
}

const uint16_t* TokenShard::tokens() const {
  CAIRN_CHECK(token_bytes_ == 2, path_, ": a version 2 shard holds uint32 tokens (use tokens32())");
  return tokens_at<uint16_t>();
}

const uint32_t* TokenShard::tokens32() const {
  CAIRN_CHECK(token_bytes_ == 4, path_, ": a version 1 shard holds uint16 tokens (use tokens())");
  return tokens_at<uint32_t>();
}

}  // namespace cairn::data

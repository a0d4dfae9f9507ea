// data/prepare.cpp — byte-level preparation of token shards from text files.
//
// Inputs are streamed: at most one shard of tokens (shard_tokens x 2 bytes) is in memory.
#include "data/prepare.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/token_shard.h"

namespace cairn::data {
namespace fs = std::filesystem;

namespace {

// Reads the concatenation of the input files as one byte stream.
class ConcatReader {
 public:
  ConcatReader(const std::vector<std::string>& paths, Progress* progress) : paths_(paths), progress_(progress) {}
  ~ConcatReader() {
    if (file_) std::fclose(file_);
  }

  // Appends the next n bytes of the stream to out as tokens; the stream must hold them.
  void read_tokens(int64_t n, std::vector<uint16_t>& out) {
    unsigned char buf[1 << 16];
    while (n > 0) {
      if (!file_) open_next();
      const size_t got = std::fread(buf, 1, size_t(std::min<int64_t>(n, sizeof(buf))), file_);
      CAIRN_CHECK(!std::ferror(file_), paths_[next_ - 1], ": read failed (", std::strerror(errno), ")");
      out.insert(out.end(), buf, buf + got);
      n -= int64_t(got);
      if (progress_) progress_->add(int64_t(got));
      if (got == 0) {  // end of this file
        std::fclose(file_);
        file_ = nullptr;
      }
    }
  }

 private:
  void open_next() {
    CAIRN_CHECK(next_ < paths_.size(), "input files shrank while being read; prepare again");
    const std::string& path = paths_[next_++];
    file_ = std::fopen(path.c_str(), "rb");
    CAIRN_CHECK(file_, path, ": cannot read (", std::strerror(errno), ")");
  }

  const std::vector<std::string>& paths_;
  size_t next_ = 0;
  std::FILE* file_ = nullptr;
  Progress* progress_ = nullptr;  // bytes read so far, for `data prepare`'s progress line
};

std::string shard_name(const std::string& split, int index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "_%06d.bin", index);
  return split + buf;
}

// Writes n tokens from the reader as ceil(n / shard_tokens) near-equal shards; returns how many.
int write_split(ConcatReader& reader, const fs::path& dir, const std::string& split, int64_t n,
                int64_t shard_tokens) {
  const int64_t n_shards = (n + shard_tokens - 1) / shard_tokens;
  std::vector<uint16_t> tokens;
  for (int64_t i = 0; i < n_shards; ++i) {
    const int64_t count = (i + 1) * n / n_shards - i * n / n_shards;
    tokens.clear();
    reader.read_tokens(count, tokens);
    write_token_shard((dir / shard_name(split, int(i))).string(), tokens.data(), count);
  }
  // Remove shards numbered past ours, left by an earlier preparation with more data.
  for (int i = int(n_shards);; ++i) {
    const fs::path stale = dir / shard_name(split, i);
    std::error_code ec;
    if (!fs::remove(stale, ec)) break;
    log_warn("removed stale shard ", stale.string(), " from an earlier preparation");
  }
  return int(n_shards);
}

}  // namespace

PrepareStats prepare_text(const std::vector<std::string>& inputs, const std::string& out_dir,
                          double val_fraction, int64_t shard_tokens) {
  CAIRN_CHECK(!inputs.empty(), "data prepare: no input files given");
  CAIRN_CHECK(val_fraction >= 0.0 && val_fraction < 1.0, "data prepare: val fraction must be in [0, 1), got ",
              val_fraction);
  CAIRN_CHECK(shard_tokens > 0 && shard_tokens <= std::numeric_limits<int32_t>::max(),
              "data prepare: shard size must be in [1, 2^31-1] tokens, got ", shard_tokens);

  // Check every input before writing anything.
  PrepareStats stats;
  for (const std::string& path : inputs) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    CAIRN_CHECK(f, path, ": cannot read input (", std::strerror(errno), ")");
    std::fclose(f);
    std::error_code ec;
    CAIRN_CHECK(fs::is_regular_file(path, ec), path, ": not a regular file; give text files as inputs");
    stats.input_bytes += int64_t(fs::file_size(path, ec));
    CAIRN_CHECK(!ec, path, ": cannot get file size (", ec.message(), ")");
  }
  stats.val_tokens = int64_t(std::floor(double(stats.input_bytes) * val_fraction));
  stats.train_tokens = stats.input_bytes - stats.val_tokens;
  CAIRN_CHECK(stats.train_tokens >= 2 && (val_fraction == 0.0 || stats.val_tokens >= 2),
              "data prepare: too little data (", stats.input_bytes, " bytes give ", stats.train_tokens,
              " train and ", stats.val_tokens, " val tokens; each split needs at least 2); add more text");

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  CAIRN_CHECK(!ec && fs::is_directory(out_dir), out_dir, ": cannot create output directory (",
              ec ? ec.message() : "a file is in the way", ")");

  Progress progress("data prepare -> " + out_dir, stats.input_bytes, Progress::kBytes);
  ConcatReader reader(inputs, &progress);
  stats.train_shards = write_split(reader, out_dir, "train", stats.train_tokens, shard_tokens);
  stats.val_shards = write_split(reader, out_dir, "val", stats.val_tokens, shard_tokens);
  progress.done();
  return stats;
}

std::string decode_bytes(const int32_t* tokens, int n) {
  std::string text(size_t(std::max(n, 0)), '?');
  for (int i = 0; i < n; ++i) {
    if (tokens[i] >= 0 && tokens[i] < kByteVocabSize) text[size_t(i)] = char(tokens[i]);
  }
  return text;
}

}  // namespace cairn::data

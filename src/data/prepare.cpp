// data/prepare.cpp — preparation of token shards from text files (byte-level or BPE).
//
// Inputs are streamed. Byte-level: at most one shard of tokens is in memory. BPE: text is
// encoded in blocks of kBlockBytes (cut where the ids do not depend on the cut) into a
// temporary uint32 file in out_dir, which is then cut into shards (the split sizes are only
// known once everything is encoded).
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
#include "data/tokenizer.h"

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

// Writes n tokens as ceil(n / shard_tokens) near-equal shards, each by write_one(path, count);
// returns how many.
template <typename WriteOne>
int write_split(const fs::path& dir, const std::string& split, int64_t n, int64_t shard_tokens, WriteOne&& write_one) {
  const int64_t n_shards = (n + shard_tokens - 1) / shard_tokens;
  for (int64_t i = 0; i < n_shards; ++i) {
    const int64_t count = (i + 1) * n / n_shards - i * n / n_shards;
    write_one((dir / shard_name(split, int(i))).string(), count);
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

void check_splits(const PrepareStats& stats, double val_fraction, int64_t units, const char* unit) {
  CAIRN_CHECK(stats.train_tokens >= 2 && (val_fraction == 0.0 || stats.val_tokens >= 2),
              "data prepare: too little data (", units, unit, " give ", stats.train_tokens, " train and ",
              stats.val_tokens, " val tokens; each split needs at least 2); add more text");
}

// The tokenizer file a directory holds is the one its shards were made with: write ours (or,
// byte-level, none) and remove any other left by an earlier preparation.
void keep_tokenizer(const fs::path& dir, const Tokenizer* tokenizer) {
  for (const char* name : {"tokenizer.json", "gpt2.tiktoken"}) {
    if (tokenizer && tokenizer->file_name() == name) continue;
    std::error_code ec;
    if (fs::remove(dir / name, ec)) log_warn("removed ", (dir / name).string(), " from an earlier preparation");
  }
  if (!tokenizer) return;
  const fs::path path = dir / tokenizer->file_name(), tmp = dir / (tokenizer->file_name() + ".tmp");
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  CAIRN_CHECK(f, tmp.string(), ": cannot create (", std::strerror(errno), ")");
  const std::string& bytes = tokenizer->file_bytes();
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  CAIRN_CHECK(ok && std::rename(tmp.c_str(), path.c_str()) == 0, path.string(), ": cannot write (",
              std::strerror(errno), ")");
}

constexpr size_t kBlockBytes = 32 << 20;

// Encodes every input as [end of text] + its ids into the file at tmp_path; returns the count.
int64_t encode_inputs(const std::vector<std::string>& inputs, const Tokenizer& tok, const std::string& tmp_path,
                      Progress* progress) {
  std::FILE* out = std::fopen(tmp_path.c_str(), "wb");
  CAIRN_CHECK(out, tmp_path, ": cannot create (", std::strerror(errno), ")");
  int64_t count = 0;
  std::vector<int32_t> ids;
  const auto flush = [&] {
    const bool ok = ids.empty() || std::fwrite(ids.data(), sizeof(int32_t), ids.size(), out) == ids.size();
    if (!ok) std::fclose(out);
    CAIRN_CHECK(ok, tmp_path, ": write failed (", std::strerror(errno), "); check free disk space");
    count += int64_t(ids.size());
    ids.clear();
  };
  for (const std::string& path : inputs) {
    std::FILE* in = std::fopen(path.c_str(), "rb");
    CAIRN_CHECK(in, path, ": cannot read (", std::strerror(errno), ")");
    ids.push_back(tok.eot_id());
    std::string buf;
    for (bool eof = false; !eof;) {
      const size_t had = buf.size();
      buf.resize(had + kBlockBytes);
      const size_t got = std::fread(buf.data() + had, 1, kBlockBytes, in);
      buf.resize(had + got);
      if (std::ferror(in)) std::fclose(in);
      CAIRN_CHECK(!std::ferror(in), path, ": read failed (", std::strerror(errno), ")");
      eof = got == 0;
      size_t cut = buf.size();
      if (!eof) {  // the last safe cut in the buffer; none: read more first
        while (cut > 0 && !tok.safe_cut(buf, cut)) --cut;
        if (cut == 0) continue;
      }
      tok.encode_parallel(std::string_view(buf).substr(0, cut), &ids, progress);
      buf.erase(0, cut);
      flush();
    }
    std::fclose(in);
  }
  CAIRN_CHECK(std::fclose(out) == 0, tmp_path, ": write failed (", std::strerror(errno), ")");
  return count;
}

PrepareStats prepare_tokenized(const std::vector<std::string>& inputs, const fs::path& dir, double val_fraction,
                               int64_t shard_tokens, const Tokenizer& tok, PrepareStats stats) {
  const std::string tmp_path = (dir / ".tokens.tmp").string();
  struct RemoveTmp {
    std::string path;
    ~RemoveTmp() { std::remove(path.c_str()); }
  } remove_tmp{tmp_path};
  Progress progress("data prepare -> " + dir.string(), stats.input_bytes, Progress::kBytes);
  const int64_t n = encode_inputs(inputs, tok, tmp_path, &progress);
  stats.val_tokens = int64_t(std::floor(double(n) * val_fraction));
  stats.train_tokens = n - stats.val_tokens;
  check_splits(stats, val_fraction, stats.input_bytes, " bytes");
  stats.token_bytes = tok.vocab_size() <= 65536 ? 2 : 4;

  std::FILE* in = std::fopen(tmp_path.c_str(), "rb");
  CAIRN_CHECK(in, tmp_path, ": cannot read back (", std::strerror(errno), ")");
  std::vector<uint32_t> wide;
  std::vector<uint16_t> narrow;
  const auto write_one = [&](const std::string& path, int64_t count) {
    wide.resize(size_t(count));
    const bool ok = std::fread(wide.data(), sizeof(uint32_t), size_t(count), in) == size_t(count);
    if (!ok) std::fclose(in);
    CAIRN_CHECK(ok, tmp_path, ": short read; was it changed while preparing?");
    if (stats.token_bytes == 4) return write_token_shard(path, wide.data(), count);
    narrow.assign(wide.begin(), wide.end());
    write_token_shard(path, narrow.data(), count);
  };
  stats.train_shards = write_split(dir, "train", stats.train_tokens, shard_tokens, write_one);
  stats.val_shards = write_split(dir, "val", stats.val_tokens, shard_tokens, write_one);
  std::fclose(in);
  keep_tokenizer(dir, &tok);
  progress.done();
  return stats;
}

}  // namespace

PrepareStats prepare_text(const std::vector<std::string>& inputs, const std::string& out_dir,
                          double val_fraction, int64_t shard_tokens, const Tokenizer* tokenizer) {
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
  if (!tokenizer) {
    stats.val_tokens = int64_t(std::floor(double(stats.input_bytes) * val_fraction));
    stats.train_tokens = stats.input_bytes - stats.val_tokens;
    check_splits(stats, val_fraction, stats.input_bytes, " bytes");
  }

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  CAIRN_CHECK(!ec && fs::is_directory(out_dir), out_dir, ": cannot create output directory (",
              ec ? ec.message() : "a file is in the way", ")");
  if (tokenizer) return prepare_tokenized(inputs, out_dir, val_fraction, shard_tokens, *tokenizer, stats);

  Progress progress("data prepare -> " + out_dir, stats.input_bytes, Progress::kBytes);
  ConcatReader reader(inputs, &progress);
  std::vector<uint16_t> tokens;
  const auto write_one = [&](const std::string& path, int64_t count) {
    tokens.clear();
    reader.read_tokens(count, tokens);
    write_token_shard(path, tokens.data(), count);
  };
  stats.train_shards = write_split(out_dir, "train", stats.train_tokens, shard_tokens, write_one);
  stats.val_shards = write_split(out_dir, "val", stats.val_tokens, shard_tokens, write_one);
  keep_tokenizer(out_dir, nullptr);
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

// data/dataset.cpp — pattern resolution, validation, windows and identity of a TokenDataset.
#include "data/dataset.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/hash.h"

namespace cairn::data {
namespace fs = std::filesystem;

namespace {

uint64_t parse_hash(const nlohmann::json& j, const std::string& where, const char* key) {
  uint64_t v = 0;
  CAIRN_CHECK(j.is_string() && parse_hex_u64(j.get<std::string>(), &v), where,
              ": malformed dataset identity: '", key, "' must be 16 lowercase hex digits");
  return v;
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Checks every token < vocab_size. The fast path is a max-reduction; the position is only
// searched for when something is out of range.
template <typename T>
void check_token_range(const TokenShard& shard, const T* t, int vocab_size) {
  const int64_t n = shard.n_tokens();
  T max_token = 0;
  for (int64_t i = 0; i < n; ++i) max_token = std::max(max_token, t[i]);
  if (n == 0 || int64_t(max_token) < vocab_size) return;
  const int64_t bad = std::find_if(t, t + n, [&](T v) { return int64_t(v) >= vocab_size; }) - t;
  CAIRN_FAIL(shard.path(), ": token ", t[bad], " at position ", bad, " is >= vocab_size ", vocab_size,
             "; the data was tokenized for another vocabulary (check model.vocab_size)");
}

void check_token_range(const TokenShard& shard, int vocab_size) {
  if (shard.token_bytes() == 2) return check_token_range(shard, shard.tokens(), vocab_size);
  check_token_range(shard, shard.tokens32(), vocab_size);
}

}  // namespace

nlohmann::json DatasetIdentity::to_json() const {
  nlohmann::json shard_list = nlohmann::json::array();
  for (const ShardIdentity& s : shards) {
    shard_list.push_back({{"name", s.name}, {"bytes", s.bytes}, {"xxh3", hex_u64(s.xxh3)}});
  }
  nlohmann::json j = {{"combined", hex_u64(combined)}, {"shards", shard_list}};
  if (!tokenizer.name.empty())
    j["tokenizer"] = {{"name", tokenizer.name}, {"bytes", tokenizer.bytes}, {"xxh3", hex_u64(tokenizer.xxh3)}};
  return j;
}

DatasetIdentity DatasetIdentity::from_json(const nlohmann::json& j, const std::string& where) {
  CAIRN_CHECK(j.is_object() && j.contains("shards") && j["shards"].is_array() && j.contains("combined"),
              where, ": malformed dataset identity: expected an object with 'combined' and 'shards'");
  DatasetIdentity id;
  for (const nlohmann::json& s : j["shards"]) {
    CAIRN_CHECK(s.is_object() && s.contains("name") && s["name"].is_string() && s.contains("bytes") &&
                    s["bytes"].is_number_integer() && s.contains("xxh3"),
                where, ": malformed dataset identity: each shard needs 'name', 'bytes' and 'xxh3'");
    id.shards.push_back({s["name"].get<std::string>(), s["bytes"].get<int64_t>(),
                         parse_hash(s["xxh3"], where, "xxh3")});
  }
  if (j.contains("tokenizer")) {
    const nlohmann::json& t = j["tokenizer"];
    CAIRN_CHECK(t.is_object() && t.contains("name") && t["name"].is_string() && t.contains("bytes") &&
                    t["bytes"].is_number_integer() && t.contains("xxh3"),
                where, ": malformed dataset identity: 'tokenizer' needs 'name', 'bytes' and 'xxh3'");
    id.tokenizer = {t["name"].get<std::string>(), t["bytes"].get<int64_t>(), parse_hash(t["xxh3"], where, "xxh3")};
  }
  id.combined = parse_hash(j["combined"], where, "combined");
  CAIRN_CHECK(id.combined == combine_identity(id.shards, id.tokenizer), where,
              ": malformed dataset identity: 'combined' does not match the shard list");
  return id;
}

uint64_t combine_identity(const std::vector<ShardIdentity>& shards, const ShardIdentity& tokenizer) {
  std::string buf;
  const auto add = [&](const ShardIdentity& s) {
    buf.append(s.name);
    buf.push_back('\0');
    buf.append(reinterpret_cast<const char*>(&s.bytes), sizeof(s.bytes));  // little endian host
    buf.append(reinterpret_cast<const char*>(&s.xxh3), sizeof(s.xxh3));
  };
  for (const ShardIdentity& s : shards) add(s);
  if (!tokenizer.name.empty()) add(tokenizer);
  return xxh3_64(buf.data(), buf.size());
}

std::string describe_difference(const DatasetIdentity& saved, const DatasetIdentity& now) {
  if (!(saved.tokenizer == now.tokenizer)) {
    const auto what = [](const ShardIdentity& t) {
      return t.name.empty() ? std::string("none (byte-level)") : str(t.name, " (", t.bytes, " bytes, xxh3 ", hex_u64(t.xxh3), ")");
    };
    return str("tokenizer ", what(saved.tokenizer), " != ", what(now.tokenizer));
  }
  const size_t common = std::min(saved.shards.size(), now.shards.size());
  for (size_t i = 0; i < common; ++i) {
    const ShardIdentity& a = saved.shards[i];
    const ShardIdentity& b = now.shards[i];
    if (a.name != b.name) return str("shard ", i, " name ", a.name, " != ", b.name);
    if (a.bytes != b.bytes) return str(a.name, " size ", a.bytes, " != ", b.bytes);
    if (a.xxh3 != b.xxh3) return str(a.name, " content hash ", hex_u64(a.xxh3), " != ", hex_u64(b.xxh3));
  }
  if (saved.shards.size() != now.shards.size()) {
    return str(saved.shards.size(), " shards != ", now.shards.size(), " shards");
  }
  if (saved.combined != now.combined) {
    return str("combined hash ", hex_u64(saved.combined), " != ", hex_u64(now.combined));
  }
  return "";
}

std::vector<std::string> resolve_shard_paths(const std::string& pattern) {
  std::vector<std::string> paths;
  std::error_code ec;
  if (fs::is_directory(pattern, ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(pattern, ec)) {
      if (e.path().extension() == ".bin" && is_regular_file(e.path().string())) {
        paths.push_back(e.path().string());
      }
    }
    CAIRN_CHECK(!ec, pattern, ": cannot list directory (", ec.message(), ")");
    CAIRN_CHECK(!paths.empty(), pattern, ": directory has no *.bin token shards; run `cairn data prepare`");
  } else if (is_regular_file(pattern)) {
    paths.push_back(pattern);
  } else {
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; ++i) {
      if (is_regular_file(g.gl_pathv[i])) paths.push_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    CAIRN_CHECK(rc == 0 || rc == GLOB_NOMATCH, pattern, ": glob failed (code ", rc, ")");
    CAIRN_CHECK(!paths.empty(), pattern, ": no token shard files match; check data.train / data.val",
                " (a file, a directory of *.bin, or a glob)");
  }
  // Byte-wise order, independent of locale: the global window index depends on it.
  std::sort(paths.begin(), paths.end());
  return paths;
}

TokenDataset TokenDataset::open(const std::string& pattern, int vocab_size, int seq_len) {
  CAIRN_CHECK(vocab_size > 0, pattern, ": vocab_size must be positive, got ", vocab_size);
  CAIRN_CHECK(seq_len > 0, pattern, ": seq_len must be positive, got ", seq_len);
  TokenDataset ds;
  ds.vocab_size_ = vocab_size;
  ds.seq_len_ = seq_len;
  ds.window_begin_.push_back(0);
  const std::vector<std::string> paths = resolve_shard_paths(pattern);
  for (const std::string& path : paths) {
    TokenShard shard = TokenShard::open(path);
    CAIRN_CHECK(shard.n_tokens() >= int64_t(seq_len) + 1, path, ": too few tokens for one sequence (",
                shard.n_tokens(), " tokens, need seq_len+1 = ", int64_t(seq_len) + 1,
                "); use a smaller model.seq_len or more data");
    check_token_range(shard, vocab_size);
    ds.identity_.shards.push_back({fs::path(path).filename().string(), shard.file_bytes(),
                                   xxh3_64(shard.file_data(), size_t(shard.file_bytes()))});
    ds.window_begin_.push_back(ds.window_begin_.back() + (shard.n_tokens() - 1) / seq_len);
    ds.shards_.push_back(std::move(shard));
  }
  const fs::path dir = fs::path(paths.front()).parent_path();
  for (const char* name : {"tokenizer.json", "gpt2.tiktoken"}) {
    if (!is_regular_file((dir / name).string())) continue;
    std::ifstream in(dir / name, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CAIRN_CHECK(in.good() || in.eof(), (dir / name).string(), ": cannot read");
    ds.identity_.tokenizer = {name, int64_t(bytes.size()), xxh3_64(bytes.data(), bytes.size())};
    ds.tokenizer_path_ = (dir / name).string();
    break;
  }
  ds.identity_.combined = combine_identity(ds.identity_.shards, ds.identity_.tokenizer);
  return ds;
}

void TokenDataset::window(int64_t w, int32_t* inputs, int32_t* targets) const {
  CAIRN_CHECK(w >= 0 && w < n_windows(), "window ", w, " out of range [0, ", n_windows(), ")");
  // window_begin_ is increasing (every shard has >= 1 window): the shard is the last begin <= w.
  const size_t s = size_t(std::upper_bound(window_begin_.begin(), window_begin_.end(), w) -
                          window_begin_.begin()) - 1;
  const TokenShard& shard = shards_[s];
  const int64_t first = (w - window_begin_[s]) * seq_len_;
  if (shard.token_bytes() == 2) {
    const uint16_t* t = shard.tokens() + first;
    for (int i = 0; i < seq_len_; ++i) inputs[i] = t[i], targets[i] = t[i + 1];
  } else {  // ids < vocab_size <= INT32_MAX (checked at open)
    const uint32_t* t = shard.tokens32() + first;
    for (int i = 0; i < seq_len_; ++i) inputs[i] = int32_t(t[i]), targets[i] = int32_t(t[i + 1]);
  }
}

}  // namespace cairn::data

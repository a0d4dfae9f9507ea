// data/tokenizer_load.cpp — reading a tokenizer.json (Hugging Face `tokenizers`) or a tiktoken
// ranks file into a Tokenizer. Everything the encoder does not implement is refused here, by
// name, so that a tokenizer either encodes exactly as its library does or does not load.
#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/byte_level.h"
#include "data/tokenizer_internal.h"

namespace cairn::data {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CAIRN_CHECK(in, path, ": cannot read tokenizer file");
  std::ostringstream s;
  s << in.rdbuf();
  CAIRN_CHECK(!in.bad(), path, ": read failed");
  return s.str();
}

// base64 (standard alphabet, '=' padding) as tiktoken writes it.
bool decode_base64(std::string_view in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += char((acc >> bits) & 0xff);
    }
  }
  return !out->empty();
}

std::string escape_regex(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || uint8_t(c) >= 0x80)) r += '\\';
    r += c;
  }
  return r;
}

PreStep split_step(const std::string& pattern) {
  PreStep s;
  s.kind = PreStep::kSplit;
  s.regex = std::make_unique<TokenizerRegex>(pattern);
  return s;
}

}  // namespace

struct TokenizerLoader {
  static void finish(Tokenizer& t) {
    const size_t threads = size_t(std::max(omp_get_max_threads(), 1));
    t.bpe_->cache.resize(threads);
    for (const AddedToken& a : t.pre_->added) t.pre_->added_first[uint8_t(a.content[0])] = true;
    std::stable_sort(t.pre_->added.begin(), t.pre_->added.end(),
                     [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
    t.vocab_size_ = int(t.bpe_->id_bytes.size());
  }

  static void set_id(BpeModel& m, int64_t id, const std::string& bytes, const std::string& where) {
    CAIRN_CHECK(id >= 0 && id < (int64_t(1) << 31) - 1, where, ": token id ", id, " out of range");
    if (size_t(id) >= m.id_bytes.size()) {
      m.id_bytes.resize(size_t(id) + 1);
      m.id_known.resize(size_t(id) + 1, 0);
    }
    m.id_bytes[size_t(id)] = bytes;
    m.id_known[size_t(id)] = 1;
  }

  static void add_pre_tokenizer(const json& p, PreTokenizer& pre, const std::string& where) {
    const std::string type = p.value("type", "");
    if (type == "Sequence") {
      for (const json& q : p.at("pretokenizers")) add_pre_tokenizer(q, pre, where);
    } else if (type == "ByteLevel") {
      if (p.value("add_prefix_space", false)) pre.steps.push_back(PreStep{PreStep::kPrefixSpace, nullptr});
      if (p.value("use_regex", true)) pre.steps.push_back(split_step(kGpt2Pattern));
    } else if (type == "Split") {
      CAIRN_CHECK(p.value("behavior", "") == "Isolated" && !p.value("invert", false), where,
                  ": Split pre-tokenizer with behavior '", p.value("behavior", ""),
                  "' or invert is not supported (only Isolated)");
      const json& pat = p.at("pattern");
      if (pat.contains("Regex")) pre.steps.push_back(split_step(pat.at("Regex").get<std::string>()));
      else pre.steps.push_back(split_step(escape_regex(pat.at("String").get<std::string>())));
    } else if (type == "Digits") {
      // tokenizers splits at char::is_numeric(), i.e. \p{N} (also ٣, ², ½), not only 0-9.
      pre.steps.push_back(split_step(p.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)"));
    } else {
      CAIRN_FAIL(where, ": pre-tokenizer '", type, "' is not supported (ByteLevel, Split, Digits, Sequence are)");
    }
  }

  static Tokenizer from_json(const std::string& path, std::string text) {
    json j;
    try {
      j = json::parse(text);
    } catch (const json::exception& e) {
      CAIRN_FAIL(path, ": not a valid tokenizer.json (", e.what(), ")");
    }
    Tokenizer t;
    t.bpe_ = std::make_unique<BpeModel>();
    t.pre_ = std::make_unique<PreTokenizer>();
    t.kind_ = "byte-level BPE";
    t.file_name_ = "tokenizer.json";
    BpeModel& m = *t.bpe_;
    try {
      const json& normalizer = j.value("normalizer", json());
      if (!normalizer.is_null()) {
        CAIRN_CHECK(normalizer.value("type", "") == "NFC", path, ": normalizer '", normalizer.value("type", "?"),
                    "' is not supported (none, or NFC as Qwen2's)");
        t.pre_->nfc = true;
      }
      const json& model = j.at("model");
      CAIRN_CHECK(model.value("type", "") == "BPE", path, ": model type '", model.value("type", ""),
                  "' is not supported (only byte-level BPE)");
      for (const char* k : {"dropout", "continuing_subword_prefix", "end_of_word_suffix"})
        CAIRN_CHECK(!model.contains(k) || model[k].is_null() || model[k] == "", path, ": BPE option '", k,
                    "' is not supported");
      CAIRN_CHECK(!model.value("byte_fallback", false), path, ": BPE byte_fallback is not supported");
      m.ignore_merges = model.value("ignore_merges", false);
      const json& decoder = j.value("decoder", json());
      CAIRN_CHECK(decoder.is_null() || decoder.value("type", "") == "ByteLevel", path, ": decoder '",
                  decoder.value("type", ""), "' is not supported: not a byte-level tokenizer");
      m.byte_id.fill(-1);
      std::unordered_map<std::string, int32_t> vocab;
      std::string bytes;
      for (const auto& [token, id_json] : model.at("vocab").items()) {
        const int64_t id = id_json.get<int64_t>();
        vocab[token] = int32_t(id);
        // An entry outside the byte alphabet (a special token kept in the vocab) is never
        // produced from bytes; it decodes as written.
        if (!unicode_to_bytes(token, &bytes)) {
          set_id(m, id, token, path);
          continue;
        }
        set_id(m, id, bytes, path);
        if (bytes.size() == 1) m.byte_id[uint8_t(bytes[0])] = int32_t(id);
        if (m.ignore_merges) m.whole[bytes] = int32_t(id);
      }
      if (model.contains("unk_token") && model["unk_token"].is_string()) {
        auto it = vocab.find(model["unk_token"].get<std::string>());
        if (it != vocab.end()) m.unk_id = it->second;
      }
      int32_t rank = 0;
      for (const json& merge : model.at("merges")) {
        std::string a, b;
        if (merge.is_array()) {
          a = merge.at(0).get<std::string>(), b = merge.at(1).get<std::string>();
        } else {
          const std::string s = merge.get<std::string>();
          const size_t sp = s.find(' ');
          CAIRN_CHECK(sp != std::string::npos, path, ": malformed merge '", s, "'");
          a = s.substr(0, sp), b = s.substr(sp + 1);
        }
        auto ia = vocab.find(a), ib = vocab.find(b), ir = vocab.find(a + b);
        CAIRN_CHECK(ia != vocab.end() && ib != vocab.end() && ir != vocab.end(), path, ": merge '", a, " ", b,
                    "' names a token that is not in the vocab");
        m.merges.emplace(BpeModel::key(ia->second, ib->second), BpeModel::Merge{rank++, ir->second});
      }
      for (const json& a : j.value("added_tokens", json::array())) {
        AddedToken tok{a.at("content").get<std::string>(), a.at("id").get<int32_t>(), a.value("lstrip", false),
                       a.value("rstrip", false)};
        CAIRN_CHECK(!tok.content.empty(), path, ": empty added token");
        set_id(m, tok.id, tok.content, path);
        t.pre_->added.push_back(tok);
      }
      const json& pre = j.value("pre_tokenizer", json());
      if (!pre.is_null()) add_pre_tokenizer(pre, *t.pre_, path);
    } catch (const json::exception& e) {
      CAIRN_FAIL(path, ": malformed tokenizer.json (", e.what(), ")");
    }
    for (const char* name : {"<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "<|im_end|>"}) {
      auto it = std::find_if(t.pre_->added.begin(), t.pre_->added.end(),
                             [&](const AddedToken& a) { return a.content == name; });
      if (it != t.pre_->added.end()) {
        t.eot_id_ = it->id, t.eot_text_ = name;
        break;
      }
    }
    CAIRN_CHECK(t.eot_id_ >= 0, path, ": no end-of-text token among its added tokens (looked for <|endoftext|>,",
                " <|end_of_text|>, </s>, <eos>, <|im_end|>); add one with special: true");
    t.file_bytes_ = std::move(text);
    finish(t);
    return t;
  }

  static Tokenizer from_tiktoken(const std::string& path, std::string text, const std::string& pattern) {
    CAIRN_CHECK(pattern == "gpt2", path, ": unknown tiktoken pattern '", pattern,
                "' (known: gpt2); name the file gpt2.tiktoken or pass --pattern gpt2");
    Tokenizer t;
    t.bpe_ = std::make_unique<BpeModel>();
    t.pre_ = std::make_unique<PreTokenizer>();
    t.kind_ = "tiktoken BPE, pattern " + pattern;
    t.file_name_ = pattern + ".tiktoken";
    BpeModel& m = *t.bpe_;
    m.byte_id.fill(-1);
    std::unordered_map<std::string, int32_t> ranks;
    std::istringstream lines(text);
    std::string line, bytes;
    for (int n = 1; std::getline(lines, line); ++n) {
      if (line.empty()) continue;
      const size_t sp = line.find(' ');
      int64_t rank = -1;
      try {
        if (sp != std::string::npos) rank = std::stoll(line.substr(sp + 1));
      } catch (const std::exception&) {
      }
      CAIRN_CHECK(sp != std::string::npos && rank >= 0 && decode_base64(std::string_view(line).substr(0, sp), &bytes),
                  path, ":", n, ": not a tiktoken ranks line ('<base64> <rank>')");
      set_id(m, rank, bytes, path);
      ranks[bytes] = int32_t(rank);
      if (bytes.size() == 1) m.byte_id[uint8_t(bytes[0])] = int32_t(rank);
    }
    for (int b = 0; b < 256; ++b)
      CAIRN_CHECK(m.byte_id[size_t(b)] >= 0, path, ": byte ", b, " has no rank; not a byte-level BPE ranks file");
    // tiktoken merges the adjacent pair whose concatenation has the lowest rank: every split
    // of a token into two tokens is a merge of that rank.
    for (const auto& [tok, rank] : ranks) {
      for (size_t k = 1; k < tok.size(); ++k) {
        auto a = ranks.find(tok.substr(0, k)), b = ranks.find(tok.substr(k));
        if (a != ranks.end() && b != ranks.end())
          m.merges.emplace(BpeModel::key(a->second, b->second), BpeModel::Merge{rank, rank});
      }
    }
    t.pre_->steps.push_back(split_step(kGpt2Pattern));
    t.eot_text_ = "<|endoftext|>";
    t.eot_id_ = int32_t(m.id_bytes.size());  // gpt2: the one special token, after the ranks
    set_id(m, t.eot_id_, t.eot_text_, path);
    t.file_bytes_ = std::move(text);
    finish(t);
    return t;
  }
};

Tokenizer Tokenizer::load(const std::string& path, const std::string& pattern) {
  std::error_code ec;
  CAIRN_CHECK(fs::is_regular_file(path, ec), path, ": not a tokenizer file (give a tokenizer.json or a .tiktoken file)");
  std::string text = read_file(path);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    CAIRN_CHECK(pattern.empty(), path, ": --pattern applies to tiktoken files only");
    return TokenizerLoader::from_json(path, std::move(text));
  }
  return TokenizerLoader::from_tiktoken(path, std::move(text), pattern.empty() ? fs::path(path).stem().string() : pattern);
}

std::unique_ptr<Tokenizer> Tokenizer::find_in(const std::string& dir) {
  std::error_code ec;
  if (fs::is_regular_file(fs::path(dir) / "tokenizer.json", ec))
    return std::make_unique<Tokenizer>(load((fs::path(dir) / "tokenizer.json").string()));
  for (const char* name : {"gpt2"}) {
    const fs::path p = fs::path(dir) / (std::string(name) + ".tiktoken");
    if (fs::is_regular_file(p, ec)) return std::make_unique<Tokenizer>(load(p.string(), name));
  }
  return nullptr;
}

}  // namespace cairn::data

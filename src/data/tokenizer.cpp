// data/tokenizer.cpp — encoding and decoding (the steps are listed in tokenizer.h).
#include "data/tokenizer.h"

#include <omp.h>
#include <utf8proc.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "core/error.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "data/byte_level.h"
#include "data/tokenizer_internal.h"

namespace cairn::data {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Pieces longer than this are encoded without caching (rare, and they would bloat the cache).
constexpr size_t kMaxCachedPiece = 64;
constexpr size_t kMaxCacheEntries = 1 << 20;
constexpr size_t kChunkBytes = 256 * 1024;

}  // namespace

void BpeModel::encode(std::string_view piece, std::vector<int32_t>* out) const {
  if (ignore_merges) {
    auto it = whole.find(std::string(piece));
    if (it != whole.end()) {
      out->push_back(it->second);
      return;
    }
  }
  std::vector<int32_t> parts;
  parts.reserve(piece.size());
  for (unsigned char c : piece) {
    const int32_t id = byte_id[c] >= 0 ? byte_id[c] : unk_id;
    if (id >= 0) parts.push_back(id);
  }
  // rank[i]: the rank of merging parts[i] and parts[i+1] (INT_MAX: no such merge).
  std::vector<int32_t> rank(parts.size() > 0 ? parts.size() - 1 : 0);
  const auto rank_of = [&](size_t i) {
    auto it = merges.find(key(parts[i], parts[i + 1]));
    return it == merges.end() ? INT_MAX : it->second.rank;
  };
  for (size_t i = 0; i < rank.size(); ++i) rank[i] = rank_of(i);
  while (!rank.empty()) {
    const size_t best = size_t(std::min_element(rank.begin(), rank.end()) - rank.begin());  // leftmost
    if (rank[best] == INT_MAX) break;
    parts[best] = merges.at(key(parts[best], parts[best + 1])).id;
    parts.erase(parts.begin() + ptrdiff_t(best) + 1);
    rank.erase(rank.begin() + ptrdiff_t(best));
    if (best < rank.size()) rank[best] = rank_of(best);
    if (best > 0) rank[best - 1] = rank_of(best - 1);
  }
  out->insert(out->end(), parts.begin(), parts.end());
}

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

void Tokenizer::encode_piece(std::string_view piece, std::vector<int32_t>* out) const {
  if (piece.size() > kMaxCachedPiece) return bpe_->encode(piece, out);
  auto& cache = bpe_->cache[size_t(omp_get_thread_num())];
  auto it = cache.find(std::string(piece));
  if (it == cache.end()) {
    if (cache.size() >= kMaxCacheEntries) cache.clear();
    std::vector<int32_t> ids;
    bpe_->encode(piece, &ids);
    it = cache.emplace(std::string(piece), std::move(ids)).first;
  }
  out->insert(out->end(), it->second.begin(), it->second.end());
}

void Tokenizer::pre_tokenize(std::string_view text, size_t step, std::vector<int32_t>* out) const {
  if (text.empty()) return;
  if (step == pre_->steps.size()) return encode_piece(text, out);
  const PreStep& s = pre_->steps[step];
  switch (s.kind) {
    case PreStep::kPrefixSpace: {
      if (text[0] == ' ') return pre_tokenize(text, step + 1, out);
      const std::string spaced = " " + std::string(text);
      return pre_tokenize(spaced, step + 1, out);
    }
    case PreStep::kSplit: {
      size_t from = 0, b = 0, e = 0;
      while (from < text.size() && s.regex->find(text, from, &b, &e)) {
        if (e == b) {  // an empty match cuts nothing; look again one character further
          ++e;
          while (e < text.size() && (uint8_t(text[e]) & 0xc0) == 0x80) ++e;
          if (b > from) pre_tokenize(text.substr(from, b - from), step + 1, out);
          pre_tokenize(text.substr(b, e - b), step + 1, out);
          from = e;
          continue;
        }
        if (b > from) pre_tokenize(text.substr(from, b - from), step + 1, out);
        pre_tokenize(text.substr(b, e - b), step + 1, out);
        from = e;
      }
      if (from < text.size()) pre_tokenize(text.substr(from), step + 1, out);
      return;
    }
  }
}

// Plain text as the pre-tokenizer sees it: NFC-normalized when the tokenizer has that
// normalizer (added tokens are matched on the text as given, as `tokenizers` does for
// special tokens). ASCII is its own NFC; text is valid UTF-8 here (replace_invalid_utf8).
void Tokenizer::pre_tokenize_normalized(std::string_view text, std::vector<int32_t>* out) const {
  if (pre_->nfc && std::any_of(text.begin(), text.end(), [](char c) { return uint8_t(c) >= 0x80; })) {
    utf8proc_uint8_t* nfc = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                            utf8proc_ssize_t(text.size()), &nfc, utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    CAIRN_CHECK(n >= 0, "tokenizer: NFC normalization failed (", utf8proc_errmsg(n), ")");
    const std::string normalized(reinterpret_cast<const char*>(nfc), size_t(n));
    std::free(nfc);
    pre_tokenize(normalized, 0, out);
    return;
  }
  pre_tokenize(text, 0, out);
}

void Tokenizer::encode_into(std::string_view text, std::vector<int32_t>* out) const {
  size_t done = 0;  // text[done, i) is plain text not yet encoded
  for (size_t i = 0; i < text.size(); ++i) {
    if (!pre_->added_first[uint8_t(text[i])]) continue;
    const AddedToken* hit = nullptr;
    for (const AddedToken& a : pre_->added) {
      if (text.compare(i, a.content.size(), a.content) == 0) {
        hit = &a;
        break;
      }
    }
    if (!hit) continue;
    size_t left = i, right = i + hit->content.size();
    if (hit->lstrip)
      while (left > done && is_space(text[left - 1])) --left;
    if (hit->rstrip)
      while (right < text.size() && is_space(text[right])) ++right;
    pre_tokenize_normalized(text.substr(done, left - done), out);
    out->push_back(hit->id);
    done = right;
    i = right - 1;
  }
  pre_tokenize_normalized(text.substr(done), out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  std::string repaired;
  encode_into(replace_invalid_utf8(text, &repaired) ? std::string_view(repaired) : text, &ids);
  return ids;
}

void Tokenizer::encode_parallel(std::string_view text, std::vector<int32_t>* out, Progress* progress) const {
  CAIRN_CHECK(size_t(omp_get_max_threads()) <= bpe_->cache.size(), "tokenizer: loaded for ", bpe_->cache.size(),
              " threads, now run with ", omp_get_max_threads(), "; load it after setting the thread count");
  std::string repaired;
  if (replace_invalid_utf8(text, &repaired)) text = repaired;
  // Cuts at "X\nL" (X printable ASCII, not a space; L an ASCII letter), before L. Every
  // supported pattern ends a piece there whatever follows, and the chunk's last piece "\n"
  // is the same with or without the text after it (no lookahead sees past a single newline
  // that follows a non-space). Cut positions depend only on the text.
  std::vector<size_t> cuts = {0};
  for (size_t at = kChunkBytes; at < text.size();) {
    size_t i = at;
    while (i < text.size() && !safe_cut(text, i)) ++i;  // none with a prefix space: one chunk
    if (i >= text.size()) break;
    cuts.push_back(i);
    at = i + kChunkBytes;
  }
  cuts.push_back(text.size());
  std::vector<std::vector<int32_t>> parts(cuts.size() - 1);
  parallel_for(int64_t(parts.size()), [&](int64_t c) {
    const size_t b = cuts[size_t(c)], e = cuts[size_t(c) + 1];
    encode_into(text.substr(b, e - b), &parts[size_t(c)]);
    if (progress) progress->add(int64_t(e - b));
  });
  size_t total = out->size();
  for (const auto& p : parts) total += p.size();
  out->reserve(total);
  for (const auto& p : parts) out->insert(out->end(), p.begin(), p.end());
}

bool Tokenizer::safe_cut(std::string_view text, size_t i) const {
  for (const PreStep& s : pre_->steps)
    if (s.kind == PreStep::kPrefixSpace) return false;
  return i >= 2 && i < text.size() && is_ascii_letter(text[i]) && text[i - 1] == '\n' && text[i - 2] > ' ' &&
         text[i - 2] < 0x7f;
}

std::string Tokenizer::decode(const int32_t* ids, size_t n) const {
  std::string text;
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id >= 0 && size_t(id) < bpe_->id_bytes.size() && bpe_->id_known[size_t(id)])
      text += bpe_->id_bytes[size_t(id)];
    else
      text += "\xef\xbf\xbd";
  }
  return text;
}

std::string Tokenizer::describe() const {
  return file_name_ + " (" + kind_ + ", " + std::to_string(vocab_size_) + " tokens, end of text " + eot_text_ + " = " +
         std::to_string(eot_id_) + ")";
}

}  // namespace cairn::data

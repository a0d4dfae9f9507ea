// data/tokenizer.h — byte-level BPE tokenizers: Hugging Face tokenizer.json and tiktoken ranks.
//
//   Tokenizer tok = Tokenizer::load("tokenizer.json");     // GPT-2, Llama 3, SmolLM2, Qwen2 style
//   Tokenizer tok = Tokenizer::load("gpt2.tiktoken");      // tiktoken ranks; pattern from the name
//   std::vector<int32_t> ids = tok.encode(text);           // = tokenizers' encode(text).ids
//   std::string text = tok.decode(ids.data(), ids.size());
//
// Encoding follows Hugging Face `tokenizers` (add_special_tokens=False) step by step, and for
// tiktoken ranks `tiktoken`'s encode_ordinary:
//   1. invalid UTF-8 becomes U+FFFD as Python's decode(errors="replace") does (byte_level.h);
//   2. added tokens (tokenizer.json's "added_tokens", e.g. <|endoftext|>) are split out first,
//      leftmost-longest, and become their ids;
//   3. with an NFC normalizer (Qwen2's) the rest is NFC-normalized (utf8proc); the
//      pre-tokenizer cuts it into pieces: ByteLevel (GPT-2's regex, optional prefix
//      space), Split with a regex (behavior Isolated), Digits, or a Sequence of these;
//   4. each piece's bytes become byte tokens, and BPE merges the adjacent pair of lowest rank
//      (leftmost on ties) until none is left; with ignore_merges (Llama 3) a piece that is
//      itself in the vocabulary is taken whole.
// Unsupported features (a normalizer other than NFC, byte_fallback, a non-byte-level model, dropout, ...) are
// refused at load time with an error that names them, rather than encoded differently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {
class Progress;
}

namespace cairn::data {

struct BpeModel;
struct PreTokenizer;

class Tokenizer {
 public:
  // path: a tokenizer.json, or a tiktoken ranks file ("<base64 bytes> <rank>" lines). For
  // tiktoken, pattern names the pre-tokenizer and the end-of-text token; "" takes it from the
  // file name's stem (gpt2.tiktoken -> "gpt2"). Known patterns: gpt2.
  static Tokenizer load(const std::string& path, const std::string& pattern = "");
  // The tokenizer kept in a data or run directory (tokenizer.json or NAME.tiktoken), or
  // nullptr when it has none (byte-level data).
  static std::unique_ptr<Tokenizer> find_in(const std::string& dir);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Not thread-safe across calls (per-thread caches); encode_parallel uses all OpenMP threads.
  std::vector<int32_t> encode(std::string_view text) const;
  // The same ids as encode(text), computed over chunks cut where every supported pattern cuts
  // anyway (before a letter that follows a newline). progress (optional) gets bytes done.
  void encode_parallel(std::string_view text, std::vector<int32_t>* out, Progress* progress = nullptr) const;
  std::string decode(const int32_t* ids, size_t n) const;  // unknown ids render as U+FFFD
  // Whether text may be cut before text[i] without changing the ids (see encode_parallel).
  // Never with a ByteLevel add_prefix_space pre-tokenizer: a cut would start a new piece.
  bool safe_cut(std::string_view text, size_t i) const;

  int vocab_size() const { return vocab_size_; }  // largest id + 1
  int eot_id() const { return eot_id_; }          // the end-of-text token between documents
  const std::string& eot_text() const { return eot_text_; }
  // The name the file is kept under in data and run directories (tokenizer.json, gpt2.tiktoken).
  const std::string& file_name() const { return file_name_; }
  const std::string& file_bytes() const { return file_bytes_; }  // the file exactly as loaded
  std::string describe() const;  // one line for logs: "tokenizer.json (byte-level BPE, 50257 tokens)"

 private:
  Tokenizer();
  friend struct TokenizerLoader;
  void encode_into(std::string_view valid_text, std::vector<int32_t>* out) const;
  void encode_piece(std::string_view piece, std::vector<int32_t>* out) const;
  void pre_tokenize(std::string_view text, size_t step, std::vector<int32_t>* out) const;
  void pre_tokenize_normalized(std::string_view text, std::vector<int32_t>* out) const;

  std::unique_ptr<BpeModel> bpe_;
  std::unique_ptr<PreTokenizer> pre_;
  int vocab_size_ = 0;
  int eot_id_ = -1;
  std::string eot_text_;
  std::string file_name_;
  std::string file_bytes_;
  std::string kind_;
};

}  // namespace cairn::data

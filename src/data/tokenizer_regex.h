// data/tokenizer_regex.h — the pre-tokenizer regexes of BPE tokenizers, run by PCRE2 (JIT).
//
// Hugging Face `tokenizers` and `tiktoken` run these patterns with Rust's regex engines, whose
// \p{L}, \p{N} and \s are Unicode classes; PCRE2 with PCRE2_UTF | PCRE2_UCP gives the same
// classes, except that Rust's \s is Unicode White_Space, which also holds U+0085 (NEL):
// translate() adds it, so "\s" means the same to both.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::data {

// GPT-2's pattern: tiktoken's "gpt2" encoding and tokenizers' ByteLevel(use_regex=true).
inline constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// A compiled pattern. find() may be called from several threads at once: each OpenMP thread
// uses match data and a JIT stack of its own.
class TokenizerRegex {
 public:
  explicit TokenizerRegex(const std::string& pattern);  // cairn::Error naming the pattern if bad
  ~TokenizerRegex();
  TokenizerRegex(const TokenizerRegex&) = delete;
  TokenizerRegex& operator=(const TokenizerRegex&) = delete;

  // The first match in text[from, end): true and [*begin, *end) set, or false. text must be
  // valid UTF-8 (it is not checked again here: Tokenizer::encode repairs it first).
  bool find(std::string_view text, size_t from, size_t* begin, size_t* end) const;

  const std::string& pattern() const { return pattern_; }

  // Rust regex syntax -> PCRE2 syntax with the same meaning (see the file comment).
  static std::string translate(const std::string& pattern);

 private:
  struct PerThread;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8
  std::vector<std::unique_ptr<PerThread>> threads_;
};

}  // namespace cairn::data

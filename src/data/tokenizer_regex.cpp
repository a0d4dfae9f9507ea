// data/tokenizer_regex.cpp — PCRE2 behind TokenizerRegex (see tokenizer_regex.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/tokenizer_regex.h"

#include <omp.h>
#include <pcre2.h>

#include "core/error.h"

namespace cairn::data {

struct TokenizerRegex::PerThread {
  pcre2_match_data* match = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ~PerThread() {
    pcre2_match_data_free(match);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};

std::string TokenizerRegex::translate(const std::string& p) {
  std::string out;
  int class_depth = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[++i];
      if (e == 's') {
        out += class_depth > 0 ? "\\s\\x{85}" : "[\\s\\x{85}]";
      } else if (e == 'S' && class_depth == 0) {
        out += "[^\\s\\x{85}]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (c == '[') ++class_depth;
    if (c == ']' && class_depth > 0) --class_depth;
    out += c;
  }
  return out;
}

TokenizerRegex::TokenizerRegex(const std::string& pattern) : pattern_(pattern) {
  const std::string translated = translate(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(error, msg, sizeof(msg));
    CAIRN_FAIL("tokenizer: cannot compile the pre-tokenizer regex '", pattern, "' at offset ", offset, ": ",
               reinterpret_cast<const char*>(msg));
  }
  code_ = code;
  // Without JIT (an unsupported CPU) pcre2_match still works, only slower.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  threads_.resize(size_t(omp_get_max_threads()));
  for (auto& t : threads_) {
    t = std::make_unique<PerThread>();
    t->match = pcre2_match_data_create_from_pattern(code, nullptr);
    t->context = pcre2_match_context_create(nullptr);
    // Long runs (whitespace, digits) need more than the default 32 KiB of JIT stack.
    t->stack = pcre2_jit_stack_create(32 * 1024, 16 * 1024 * 1024, nullptr);
    CAIRN_CHECK(t->match && t->context && t->stack, "tokenizer: out of memory for regex match data");
    pcre2_jit_stack_assign(t->context, nullptr, t->stack);
  }
}

TokenizerRegex::~TokenizerRegex() {
  threads_.clear();
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

bool TokenizerRegex::find(std::string_view text, size_t from, size_t* begin, size_t* end) const {
  const size_t thread = size_t(omp_get_thread_num());
  CAIRN_CHECK(thread < threads_.size(), "tokenizer: regex used by more threads than it was built for");
  PerThread& t = *threads_[thread];
  const int rc = pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(text.data()),
                             text.size(), from, PCRE2_NO_UTF_CHECK, t.match, t.context);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(rc, msg, sizeof(msg));
    CAIRN_FAIL("tokenizer: regex '", pattern_, "' failed on the input: ", reinterpret_cast<const char*>(msg));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(t.match);
  *begin = ov[0];
  *end = ov[1];
  return true;
}

}  // namespace cairn::data

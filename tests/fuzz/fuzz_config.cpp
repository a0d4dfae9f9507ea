// tests/fuzz/fuzz_config.cpp — libFuzzer harness for the config parser (train/config.cpp:
// Config::parse with --set overrides, to_toml).
// Input: TOML text, optionally followed by a line "---" and one `section.key=value` override
// per line. Every input must be refused with cairn::Error (UsageError included) or give a
// config whose resolved TOML (what run.dir/config.toml and every checkpoint store, and what
// resume parses back) parses again to the same config. Build and run: README.md.
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "train/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  const size_t sep = text.find("\n---\n");
  if (sep != std::string::npos) {
    std::string rest = text.substr(sep + 5);
    text.resize(sep + 1);
    size_t start = 0;
    while (start <= rest.size()) {
      size_t nl = rest.find('\n', start);
      if (nl == std::string::npos) nl = rest.size();
      if (nl > start) overrides.push_back(rest.substr(start, nl - start));
      start = nl + 1;
    }
  }
  cairn::Config c;
  try {
    c = cairn::Config::parse(text, "fuzz.toml", overrides);
  } catch (const cairn::Error&) {
    return 0;  // refused
  }
  const std::string resolved = c.to_toml();
  cairn::Config again;
  try {
    again = cairn::Config::parse(resolved, "resolved.toml");
  } catch (const cairn::Error& e) {
    std::fprintf(stderr, "resolved config does not parse back: %s\n%s\n", e.what(), resolved.c_str());
    std::abort();
  }
  FUZZ_ASSERT(again.to_toml() == resolved);
  FUZZ_ASSERT(cairn::config_differences(c, again).empty());
  cairn::fuzz::input_accepted = true;
  return 0;
}

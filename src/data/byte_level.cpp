// data/byte_level.cpp — GPT-2's bytes-to-unicode table and UTF-8 repair (see byte_level.h).
#include "data/byte_level.h"

#include <cstdint>

namespace cairn::data {
namespace {

std::string utf8_of(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xc0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3f));
  } else {
    s += char(0xe0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3f));
    s += char(0x80 | (cp & 0x3f));
  }
  return s;
}

bool printable_as_itself(int b) { return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff); }

// Length of the well-formed UTF-8 sequence at s[i] (Unicode Table 3-7), or of the maximal
// ill-formed prefix negated (at least 1) when it is not well formed.
int utf8_sequence(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return k < s.size() ? uint8_t(s[k]) : uint8_t(0); };
  const uint8_t b0 = at(i);
  if (b0 < 0x80) return 1;
  int len;
  uint8_t lo = 0x80, hi = 0xbf;  // the range allowed for the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    const uint8_t b = at(i + size_t(k));
    const bool ok = i + size_t(k) < s.size() && (k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xbf));
    if (!ok) return -k;
  }
  return len;
}

}  // namespace

const std::array<std::string, 256>& byte_to_unicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) t[size_t(b)] = utf8_of(printable_as_itself(b) ? uint32_t(b) : next++);
    return t;
  }();
  return table;
}

bool unicode_to_bytes(std::string_view token, std::string* bytes) {
  // Every character of the table is U+0021..U+0143: one or two UTF-8 bytes.
  static const std::array<int, 0x144> back = [] {
    std::array<int, 0x144> r{};
    r.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) r[size_t(printable_as_itself(b) ? uint32_t(b) : next++)] = b;
    return r;
  }();
  bytes->clear();
  for (size_t i = 0; i < token.size();) {
    const uint8_t c = uint8_t(token[i]);
    uint32_t cp;
    if (c < 0x80) {
      cp = c, i += 1;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < token.size()) {
      cp = (uint32_t(c & 0x1f) << 6) | (uint8_t(token[i + 1]) & 0x3f), i += 2;
    } else {
      return false;
    }
    if (cp >= back.size() || back[cp] < 0) return false;
    *bytes += char(back[cp]);
  }
  return true;
}

bool replace_invalid_utf8(std::string_view text, std::string* out) {
  size_t i = 0;
  for (int n; i < text.size() && (n = utf8_sequence(text, i)) > 0;) i += size_t(n);
  if (i == text.size()) return false;
  std::string r(text.substr(0, i));
  while (i < text.size()) {
    const int n = utf8_sequence(text, i);
    if (n > 0) {
      r.append(text.substr(i, size_t(n)));
      i += size_t(n);
    } else {
      r += "\xef\xbf\xbd";
      i += size_t(-n);
    }
  }
  *out = std::move(r);
  return true;
}

}  // namespace cairn::data

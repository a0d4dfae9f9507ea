// data/byte_level.h — the byte <-> text glue every byte-level BPE tokenizer needs.
//
// GPT-2's byte-level BPE (and Llama 3's, Qwen2's, SmolLM2's after it) writes each byte of a
// token as one printable Unicode character so that vocab files are text: bytes 0x21..0x7e,
// 0xa1..0xac and 0xae..0xff map to themselves, the other 68 to U+0100, U+0101, ... in byte
// order ("Ġ" is the space 0x20). tokenizer.json's vocab and merges are written in those
// characters; tiktoken ranks files hold the raw bytes, base64-encoded.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace cairn::data {

// byte_to_unicode()[b]: the UTF-8 encoding of the character standing for byte b.
const std::array<std::string, 256>& byte_to_unicode();

// The bytes a byte-level token string stands for. Returns false when the string holds a
// character that is not one of the 256 (an added token such as "<|endoftext|>" does not).
bool unicode_to_bytes(std::string_view token, std::string* bytes);

// Valid UTF-8 as Python's bytes.decode("utf-8", errors="replace") makes it: every maximal
// ill-formed subsequence becomes one U+FFFD. Tokenizers work on Unicode text, so invalid
// input is encoded exactly as Hugging Face `tokenizers` and `tiktoken` encode that string.
// Returns false (and leaves *out alone) when the text was already valid.
bool replace_invalid_utf8(std::string_view text, std::string* out);

}  // namespace cairn::data

// data/tokenizer_internal.h — the parts of a Tokenizer, shared by tokenizer.cpp (encoding) and
// tokenizer_load.cpp (reading tokenizer.json and tiktoken files). Not for use elsewhere.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/tokenizer.h"
#include "data/tokenizer_regex.h"

namespace cairn::data {

// Byte-level BPE over token ids. A merge is keyed by the pair of ids it joins.
struct BpeModel {
  std::array<int32_t, 256> byte_id{};  // id of each single byte; -1 where the vocab lacks it
  int32_t unk_id = -1;                 // what a missing byte becomes; -1: it is dropped
  struct Merge {
    int32_t rank;
    int32_t id;
  };
  std::unordered_map<uint64_t, Merge> merges;  // (left << 32 | right) -> rank and result
  bool ignore_merges = false;
  std::unordered_map<std::string, int32_t> whole;  // raw bytes -> id, used with ignore_merges
  std::vector<std::string> id_bytes;               // decode: the bytes of each id
  std::vector<uint8_t> id_known;                   // 0 for ids no token has

  // Per-thread cache of piece -> ids (pieces repeat a lot in text).
  mutable std::vector<std::unordered_map<std::string, std::vector<int32_t>>> cache;

  static uint64_t key(int32_t a, int32_t b) { return uint64_t(uint32_t(a)) << 32 | uint32_t(b); }
  void encode(std::string_view piece, std::vector<int32_t>* out) const;
};

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool lstrip = false, rstrip = false;  // also take the whitespace left / right of it
};

struct PreStep {
  enum Kind { kSplit, kPrefixSpace } kind = kSplit;
  std::unique_ptr<TokenizerRegex> regex;  // kSplit: every match and every gap is a piece
};

struct PreTokenizer {
  bool nfc = false;  // normalizer NFC (Qwen2): plain text between added tokens is NFC-normalized first
  std::vector<AddedToken> added;  // longest first, so the first match is the longest
  std::array<bool, 256> added_first{};
  std::vector<PreStep> steps;  // applied in order, each to every piece of the previous one
};

}  // namespace cairn::data

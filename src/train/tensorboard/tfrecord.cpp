// train/tensorboard/tfrecord.cpp — CRC-32C, TFRecord framing (tfrecord.h) and the mapping of
// metrics.jsonl records to TensorBoard scalars (tensorboard.h). No protobuf here: this file
// is built with or without it.
#include "train/tensorboard/tfrecord.h"

#include <array>

#include "train/tensorboard/tensorboard.h"

namespace cairn {
namespace {

std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

void flatten(const std::string& prefix, const nlohmann::json& j, std::vector<std::pair<std::string, double>>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "step" || it.key() == "split" || it.key() == "event") continue;
    const std::string tag = prefix + "/" + it.key();
    if (it->is_number()) out.emplace_back(tag, it->get<double>());
    else if (it->is_object()) flatten(tag, *it, out);
  }
}

}  // namespace

uint32_t crc32c(const void* data, size_t n) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

uint32_t masked_crc32c(const void* data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string tfrecord_frame(const std::string& data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, masked_crc32c(out.data(), 8), 4);
  out += data;
  put_le(out, masked_crc32c(data.data(), data.size()), 4);
  return out;
}

std::vector<std::pair<std::string, double>> tensorboard_scalars(const nlohmann::json& record) {
  std::vector<std::pair<std::string, double>> out;
  if (!record.is_object() || !record.contains("step")) return out;
  if (record.contains("split") && record["split"].is_string()) flatten(record["split"].get<std::string>(), record, out);
  else if (record.value("event", "") == "checkpoint") flatten("checkpoint", record, out);
  return out;
}

}  // namespace cairn

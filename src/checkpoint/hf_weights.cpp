// checkpoint/hf_weights.cpp — see hf_weights.h.
#include "checkpoint/hf_weights.h"

#include <nlohmann/json.hpp>

#include "checkpoint/file_io.h"
#include "core/error.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;

constexpr int64_t kMaxIndexBytes = 100'000'000;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// weight_map of an index: tensor name -> shard file name, grouped by shard.
std::map<std::string, std::map<std::string, std::string>> read_index(const std::string& path) {
  json j;
  try {
    j = json::parse(read_small_file(path, kMaxIndexBytes));
  } catch (const json::exception& e) {
    CAIRN_FAIL(path, ": not valid JSON (", e.what(), ")");
  }
  CAIRN_CHECK(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(), path,
              ": a sharded checkpoint index needs a \"weight_map\" object {tensor name: shard file}");
  std::map<std::string, std::map<std::string, std::string>> by_shard;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    CAIRN_CHECK(it.value().is_string(), path, ": weight_map[\"", it.key(), "\"] must be a file name");
    const std::string shard = it.value().get<std::string>();
    CAIRN_CHECK(!shard.empty() && shard.find('/') == std::string::npos && shard != "." && shard != "..", path,
                ": weight_map[\"", it.key(), "\"] = \"", shard,
                "\" is not a file name in the index's directory (shards must lie beside the index)");
    by_shard[shard][it.key()] = shard;
  }
  CAIRN_CHECK(!by_shard.empty(), path, ": weight_map is empty");
  return by_shard;
}

}  // namespace

HfWeights HfWeights::open(const std::string& path) {
  HfWeights w;
  w.source_ = path;
  std::string weights = path;
  if (is_dir(path)) {
    const std::string single = join_path(path, kHfWeightsFile), index = join_path(path, kHfIndexFile);
    if (is_file(single)) weights = single;
    else if (is_file(index)) weights = index;
    else
      CAIRN_FAIL(path, ": a Hugging Face model directory holds ", kHfWeightsFile, " or ", kHfIndexFile,
                 "; this one has neither");
  }
  w.weights_path_ = weights;
  w.dir_ = parent_dir(weights);
  if (ends_with(weights, ".json")) {
    for (const auto& [shard, names] : read_index(weights)) w.add_file(join_path(w.dir_, shard), &names);
  } else {
    w.add_file(weights, nullptr);
  }
  return w;
}

void HfWeights::add_file(const std::string& path, const std::map<std::string, std::string>* expected) {
  files_.push_back(SafetensorsFile::open(path));
  const SafetensorsFile& f = files_.back();
  for (const TensorEntry& e : f.tensors()) {
    if (e.name.rfind("__pad_", 0) == 0 && e.dtype == "U8") continue;  // cairn's alignment filler
    auto [it, fresh] = tensors_.emplace(e.name, Tensor{&f, &e});
    CAIRN_CHECK(fresh, path, ": tensor ", e.name, " is also in ", it->second.file->path(),
                " (a tensor must be in one shard)");
  }
  if (expected == nullptr) return;
  for (const auto& [name, shard] : *expected)
    CAIRN_CHECK(f.find(name) != nullptr, weights_path_, ": weight_map puts ", name, " in ", shard,
                ", which does not hold it");
}

int64_t HfWeights::file_bytes() const {
  int64_t n = 0;
  for (const SafetensorsFile& f : files_) n += f.file_size();
  return n;
}

}  // namespace cairn::ckpt

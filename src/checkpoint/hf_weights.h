// checkpoint/hf_weights.h — the weights of a Hugging Face model as `save_pretrained` lays
// them out, whichever of its three forms a user names:
//   DIR/                              a model directory: DIR/model.safetensors, else
//                                     DIR/model.safetensors.index.json
//   FILE.safetensors                  one safetensors file
//   model.safetensors.index.json      a sharded checkpoint: {"weight_map": {tensor: shard file}}
//                                     naming shard files beside the index
// and the directory that holds config.json (and tokenizer files) for that model. Nothing here
// knows a model family: it maps tensor names to (file, entry) and reads their bytes.
//
// An index is read strictly: every shard it names must be a plain file name in the index's
// directory (no path, so an index cannot point outside it), must open as safetensors, and
// must hold the tensors the index assigns to it; a name held by two shards is refused.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "checkpoint/safetensors.h"

namespace cairn::ckpt {

inline constexpr const char* kHfWeightsFile = "model.safetensors";
inline constexpr const char* kHfIndexFile = "model.safetensors.index.json";

class HfWeights {
 public:
  struct Tensor {
    const SafetensorsFile* file;
    const TensorEntry* entry;
  };

  // Resolves `path` (see the file comment) and opens every file's header. Throws cairn::Error
  // with one line naming the path and, for a directory without weights, what it looked for.
  static HfWeights open(const std::string& path);
  HfWeights() = default;
  HfWeights(HfWeights&&) = default;  // tensors() points into files_, whose elements a move keeps
  HfWeights(const HfWeights&) = delete;

  const std::string& source() const { return source_; }  // the path as given
  const std::string& dir() const { return dir_; }        // where config.json would be
  const std::string& weights_path() const { return weights_path_; }  // the file or index opened
  int shard_count() const { return int(files_.size()); }
  int64_t file_bytes() const;  // all files together
  // Every tensor, by name (sorted), across all shards.
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }
  // Bytes [byte_begin, byte_end) of a tensor (see SafetensorsFile::read).
  static void read(const Tensor& t, int64_t byte_begin, int64_t byte_end, void* out) {
    t.file->read(*t.entry, byte_begin, byte_end, out);
  }

 private:
  void add_file(const std::string& path, const std::map<std::string, std::string>* expected);

  std::string source_, dir_, weights_path_;
  std::deque<SafetensorsFile> files_;  // deque: Tensor points into it and it only grows
  std::map<std::string, Tensor> tensors_;
};

}  // namespace cairn::ckpt

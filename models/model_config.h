// models/model_config.h — the [model] section of the config: which family (model.arch) and
// its shape. Declared here, below src/train, so that families read it without depending on
// the trainer; every field is a config key (src/train/config.cpp documents and validates it).
#pragma once

#include <string>

namespace cairn {

struct ModelConfig {
  std::string arch = "gpt2";  // a family in models/registry.cpp
  int n_layer = 0;
  int n_head = 0;
  int n_embd = 0;
  int seq_len = 0;
  int vocab_size = 0;
  double dropout = 0.0;
};

}  // namespace cairn

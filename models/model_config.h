// models/model_config.h — the [model] section of the config: which family (model.arch) and
// its shape. Declared here, below src/train, so that families read it without depending on
// the trainer. Every field is a config key, declared once in CAIRN_MODEL_KEYS below (type,
// required or not, documentation), which src/train/config.cpp expands into its key table
// (parsing, --set, the resolved TOML, --help-config, checkpoints' state.model). A family that
// needs a key adds the field and its line here.
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

// X(kind, field, required, doc), kind one of INT, FLOAT, BOOL, STRING, STRING_LIST.
#define CAIRN_MODEL_KEYS(X)                                                                        \
  X(STRING, arch, false, "model family: a name registered in models/registry.cpp (docs/models.md); gpt2 = GPT-2") \
  X(INT, n_layer, true, "transformer blocks")                                                      \
  X(INT, n_head, true, "attention heads; must divide n_embd")                                      \
  X(INT, n_embd, true, "channels")                                                                 \
  X(INT, seq_len, true, "context length T (tokens per sequence)")                                 \
  X(INT, vocab_size, true, "vocabulary size V (256 for the byte tokenizer); padded to a multiple of 64 internally") \
  X(FLOAT, dropout, false, "dropout probability on embeddings, attention and residual branches, in [0, 1)")

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
  // Llama family (models/llama/); GPT-2 accepts only the values that describe GPT-2.
  int n_kv_head = 0;         // 0 = n_head
  int ffn_dim = 0;           // 0 = the family's default (GPT-2: 4 * n_embd; llama: required)
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  bool tie_embeddings = true;
  int kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; }
};

}  // namespace cairn

// X(kind, field, required, doc), kind one of INT, FLOAT, BOOL, STRING, STRING_LIST.
#define CAIRN_MODEL_KEYS(X)                                                                        \
  X(STRING, arch, false, "model family: a name registered in models/registry.cpp (docs/models.md): gpt2 = GPT-2, llama = Llama (RMSNorm, RoPE, GQA, SwiGLU)") \
  X(INT, n_layer, true, "transformer blocks")                                                      \
  X(INT, n_head, true, "attention heads; must divide n_embd")                                      \
  X(INT, n_embd, true, "channels")                                                                 \
  X(INT, seq_len, true, "context length T (tokens per sequence)")                                 \
  X(INT, vocab_size, true, "vocabulary size V (256 for the byte tokenizer); padded to a multiple of 64 internally") \
  X(FLOAT, dropout, false, "dropout probability in [0, 1): gpt2 on embeddings, attention and residual branches; llama on attention probabilities (HF attention_dropout)") \
  X(INT, n_kv_head, false, "llama: key/value heads (grouped-query attention), dividing n_head; 0 = n_head")    \
  X(INT, ffn_dim, false, "llama: SwiGLU hidden width (HF intermediate_size), required; gpt2: 0 or 4*n_embd")    \
  X(FLOAT, rope_theta, false, "llama: rotary position embedding base")                                   \
  X(FLOAT, rms_norm_eps, false, "llama: RMSNorm epsilon")                                                \
  X(BOOL, tie_embeddings, false, "the LM head is the token embedding (gpt2: always; llama: false adds lm_head.weight)")

// models/model.h — the one interface between the runtime and a model family.
//
// Everything above models/ (src/train, src/checkpoint, src/cli) builds, initialises, runs and
// names a model through this header and the registry (models/registry.cpp), keyed by
// `model.arch`; none of it names a family. A family (models/gpt/, ...) supplies a
// ModelFamily: its parameter layout (every tensor with its name, shapes, weight decay and
// init kind), a factory for the Model that runs forward/backward on a device, the activation
// bytes of that Model before it is allocated (memory check), and how its tensors are named
// in Hugging Face files. docs/models.md says how to add one.
//
// Parameters, gradients and AdamW moments share one flat fp32 buffer in the layout's
// canonical order (DESIGN §2.1): each tensor starts on a 16-float boundary, the total is
// padded to a multiple of kChunkFloats. Tensor names are the family's Hugging Face names,
// so model.safetensors and `ckpt export` need no renaming.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/ops.h"
#include "models/model_config.h"

namespace cairn::models {

// How init_params fills a tensor: kNormal draws N(0, init_std) over the tensor's real
// elements (export_shape: padded vocabulary rows stay zero).
enum class InitKind { kZeros, kOnes, kNormal };

struct ParamTensor {
  std::string name;                   // the family's HF name, e.g. "h.3.mlp.c_fc.weight"
  std::vector<int64_t> shape;         // stored shape
  std::vector<int64_t> export_shape;  // shape with the real vocabulary (embeddings), else == shape
  int64_t offset = 0;                 // into the flat buffer, in floats
  int64_t numel = 0;
  bool decay = false;                 // weight decay applies (matrices, not biases/norms)
  InitKind init = InitKind::kZeros;
  float init_std = 0.0f;              // kNormal only
};

struct ParamLayout {
  std::vector<ParamTensor> tensors;
  int64_t total = 0;  // flat buffer length: multiple of kChunkFloats
  int64_t n_params() const;  // real parameters (excluding padding and padded vocab rows)
  const ParamTensor& find(const std::string& name) const;
  // Appends a tensor at the next 16-float boundary (export_shape = shape); finish() pads total.
  ParamTensor& add(std::string name, std::vector<int64_t> shape, bool decay, InitKind init, float init_std = 0.0f);
  void finish();
};

// Fills params[0, layout.total) from Philox(seed, kInit) by each tensor's init kind; padding
// is zero. Element e of tensor i draws from counter (low 32 bits of e/2, i, high 32 bits of
// e/2, 0): the same bits on any rank and thread count.
void init_params(const ParamLayout& layout, float* params, uint64_t seed);

// Which dropout masks to use for one micro-batch (see DropoutSite in kernels.h).
struct DropoutContext {
  bool training = false;  // false: no dropout regardless of model.dropout
  uint64_t seed = 0;
  uint64_t step = 0;
  uint32_t micro_batch = 0;
};

// A model with the activation memory for micro-batches of B() sequences of T() tokens, on the
// device of the KernelOps it was created with. Parameter and gradient buffers (flat,
// layout()) live on that device too; tokens and targets are host arrays.
class Model {
 public:
  virtual ~Model() = default;
  virtual const ParamLayout& layout() const = 0;
  // Mean cross-entropy over the B*T targets. With targets == nullptr only logits are
  // computed. Keeps the activations for backward().
  virtual double forward(const float* params, const int32_t* tokens, const int32_t* targets,
                         const DropoutContext& drop) = 0;
  // Adds d(loss * loss_scale)/d(params) into grads. Must follow forward() with targets.
  virtual void backward(const float* params, float* grads, float loss_scale) = 0;
  // Logits [B, T, padded_vocab()] of the last forward(), in host memory; columns at and
  // past the real vocabulary size are padding.
  virtual const float* logits() = 0;
  virtual int padded_vocab() const = 0;
  // Bytes of activation memory held on the device (== ModelFamily::activation_bytes).
  virtual size_t activation_bytes() const = 0;
  virtual int B() const = 0;
  virtual int T() const = 0;
};

// How a family's tensors appear in Hugging Face files (`ckpt import`). Layout names are HF
// names; these are the differences a saved file may show.
struct HfNames {
  std::vector<std::string> optional_prefixes;  // e.g. "transformer.": stripped where present
  std::string ignored;                         // regex (full match, after stripping) of non-parameters
  std::string tied_head, tied_to;              // a head the model ties to a layout tensor (accepted
                                               // only if equal to it); empty: none
  std::string cropped_rows;                    // a tensor (a position table) a file may hold more
                                               // rows of: its first rows are the same model on
                                               // shorter sequences; empty: none
  std::string describe;                        // what the family is called in messages, e.g. "GPT-2"
};

struct ModelFamily {
  std::string arch;  // the model.arch value
  // The [model] section's family-specific rules (the generic ones, n_layer >= 1 and the like,
  // are src/train/config.cpp's): one message per violated rule, naming the key.
  std::vector<std::string> (*check_config)(const ModelConfig& cfg);
  ParamLayout (*layout)(const ModelConfig& cfg);
  std::unique_ptr<Model> (*create)(const ModelConfig& cfg, int B, int T, const KernelOps& ops);
  size_t (*activation_bytes)(const ModelConfig& cfg, int B, int T);
  HfNames (*hf_names)(const ModelConfig& cfg);
  // HF config.json (parsed) against the cairn config: one line per key that disagrees.
  std::vector<std::string> (*check_hf_config)(const nlohmann::json& config_json, const ModelConfig& cfg);
  // HF config.json for an export (`ckpt export DIR`), loadable by transformers' from_pretrained.
  nlohmann::json (*hf_config)(const ModelConfig& cfg);
  // What a file's tensors (HF names, shapes) say about its model, for error messages,
  // e.g. "n_layer=12, vocab_size=50257, n_embd=768".
  std::string (*describe_hf_file)(const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors);
};

// For a family's check_hf_config: when config.json has an integer `hf_key` other than
// `value`, appends "model.<key> = <value> but config.json has <hf_key> = <its value>".
void check_hf_int(const nlohmann::json& config_json, const char* hf_key, const char* key, int64_t value,
                  std::vector<std::string>* diffs);

// The family registered for `arch`; throws "model.arch = "x" is not a registered model
// family (registered: gpt2)".
const ModelFamily& family(const std::string& arch);
std::vector<std::string> registered_archs();

// Shortcuts through family(cfg.arch).
ParamLayout build_layout(const ModelConfig& cfg);
std::unique_ptr<Model> create(const ModelConfig& cfg, int B, int T, const KernelOps& ops = cpu_ops());
size_t activation_bytes(const ModelConfig& cfg, int B, int T);

}  // namespace cairn::models

// train/freeze.h — train.freeze: which parameters a fine-tuning run keeps fixed.
//
// A pattern selects every tensor whose name it is a prefix of ("h.0." -> all of block 0) or
// that it matches as a glob (fnmatch: "h.*.attn.*", "wte.weight"). A frozen tensor gets no
// AdamW update and no weight decay, its AdamW moments are never touched (zero when frozen
// from the start), and its gradient is zeroed before the clipping norm, as if it had none
// (PyTorch's requires_grad = False). Its bits therefore never change, which incremental
// checkpoints (checkpoint.incremental) turn into saves that skip it.
// Gradients are still computed for frozen tensors (the backward pass is not pruned).
#pragma once

#include <string>
#include <vector>

#include "core/sharding.h"
#include "models/model.h"

namespace cairn {

struct FrozenSet {
  std::vector<Range> ranges;         // flat element ranges, ascending, disjoint, merged
  std::vector<std::string> tensors;  // the frozen tensors' names, in layout order
  int64_t params = 0;                // elements frozen
};

// Throws cairn::Error naming the pattern if one matches no tensor (a typo would otherwise
// silently train everything).
FrozenSet frozen_tensors(const models::ParamLayout& layout, const std::vector<std::string>& patterns);

}  // namespace cairn

// comm/tree_split.cpp — blocks and maximal canonical subtrees (see tree_split.h).
#include "comm/tree_split.h"

#include <algorithm>

#include "core/error.h"

namespace cairn {
namespace {

void collect(int lo, int hi, int begin, int end, std::vector<TreeNode>& out) {
  if (hi <= begin || lo >= end) return;
  if (begin <= lo && hi <= end) {
    out.push_back({lo, hi});
    return;
  }
  const int mid = lo + (hi - lo) / 2;  // tree_mid (comm/reduce.h)
  collect(lo, mid, begin, end, out);
  collect(mid, hi, begin, end, out);
}

}  // namespace

std::string world_too_large_message(int world, int grad_accum) {
  return str("cannot train on ", world, " ranks with train.grad_accum = ", grad_accum,
             ": every rank needs at least one micro-batch, so the world size must be at most grad_accum "
             "(any number of ranks from 1 to grad_accum gives the same bits); lower -np or raise train.grad_accum");
}

std::vector<TreeNode> maximal_subtrees(int grad_accum, int begin, int end) {
  CAIRN_CHECK(0 <= begin && begin < end && end <= grad_accum, "maximal_subtrees: [", begin, ", ", end,
              ") is not a non-empty part of [0, ", grad_accum, ")");
  std::vector<TreeNode> out;
  collect(0, grad_accum, begin, end, out);
  return out;
}

TreeSplit split_tree(int grad_accum, int world) {
  CAIRN_CHECK(grad_accum >= 1 && world >= 1, "split_tree: grad_accum ", grad_accum, ", world ", world);
  CAIRN_CHECK(world <= grad_accum, world_too_large_message(world, grad_accum));
  TreeSplit s;
  s.grad_accum = grad_accum;
  s.world = world;
  const int q = grad_accum / world, extra = grad_accum % world;
  s.block_begin.push_back(0);
  s.first_node.push_back(0);
  for (int r = 0; r < world; ++r) {
    const int begin = s.block_begin.back(), end = begin + q + (r < extra ? 1 : 0);
    for (const TreeNode& n : maximal_subtrees(grad_accum, begin, end)) s.nodes.push_back(n);
    s.block_begin.push_back(end);
    s.first_node.push_back(int(s.nodes.size()));
  }
  return s;
}

int TreeSplit::max_parts() const {
  int most = 0;
  for (int r = 0; r < world; ++r) most = std::max(most, parts(r));
  return most;
}

}  // namespace cairn

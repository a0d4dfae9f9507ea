// comm/tree_split.h — how W ranks share the canonical gradient tree over G micro-batches.
//
// The tree is a function of G alone: recursive halving of [0, G) at lo + (hi-lo)/2
// (comm/reduce.h). Rank r of W (1 <= W <= G) trains the contiguous block of micro-batches
// [block_begin[r], block_begin[r+1]): blocks as equal as possible, the first G mod W ranks
// one micro-batch more. A block need not be a node of the tree (it is exactly when W is a
// power of two dividing G), so each rank sums the *maximal* canonical subtrees that lie inside
// its block, left to right; together the ranks' subtrees partition [0, G) into tree nodes
// ("nodes" below), and an owner that has every node's partial for its slice finishes the tree
// above them in the canonical order: the bits of W = 1.
//
//   G = 24, W = 5: blocks [0,5) [5,10) [10,15) [15,20) [20,24)
//   rank 0: [0,3) [3,4) [4,5)   rank 1: [5,6) [6,9) [9,10)   ... 13 nodes in all
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn {

struct TreeNode {
  int lo = 0, hi = 0;  // micro-batches [lo, hi): a node of the canonical tree
  int size() const { return hi - lo; }
};

struct TreeSplit {
  int grad_accum = 1, world = 1;
  std::vector<int> block_begin;  // world + 1 entries; rank r's block is [block_begin[r], block_begin[r+1])
  std::vector<TreeNode> nodes;   // every rank's maximal subtrees, left to right: a partition of [0, G)
  std::vector<int> first_node;   // world + 1 entries; rank r's subtrees are nodes[first_node[r] .. first_node[r+1])

  int block_size(int r) const { return block_begin[r + 1] - block_begin[r]; }
  int parts(int r) const { return first_node[r + 1] - first_node[r]; }  // partial sums rank r sends
  int max_parts() const;
  // True when every rank's block is one node (one partial each): W a power of two dividing G.
  bool one_part_per_rank() const { return int(nodes.size()) == world; }
};

// The split of G micro-batches over W ranks. Throws unless 1 <= W <= G.
TreeSplit split_tree(int grad_accum, int world);

// The maximal canonical subtrees of the tree over [0, G) that lie inside [begin, end), left to right.
std::vector<TreeNode> maximal_subtrees(int grad_accum, int begin, int end);

// The message for W > G (each rank needs at least one micro-batch), shared by the trainer and tests.
std::string world_too_large_message(int world, int grad_accum);

}  // namespace cairn

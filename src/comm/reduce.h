// comm/reduce.h — the canonical (world-size-invariant) reductions of DESIGN.md §2.
//
// The step gradient is the sum of G micro-batch gradients in one fixed binary tree:
// recursive halving of [0, G) at lo + (hi-lo)/2, a function of G alone. Rank r of W
// (1 <= W <= G) trains a contiguous block of micro-batches (comm/tree_split.h), so:
//   1. each rank sums, with the same recursion (tree_accumulate below), every maximal
//      canonical subtree inside its block: one partial when W is a power of two dividing G
//      (the block is a node), a few otherwise;
//   2. reduce_scatter_canonical: every rank sends slice j of each of its partials to rank j
//      (all-to-all), and rank j finishes the tree above those subtrees in the canonical
//      order (at a power of two: the same recursion over rank index).
// The result on rank j is bit-for-bit the slice j of the tree sum over all G gradients,
// whatever W is. All-reduce is never used: its summation order is unspecified.
//
// One algorithm for every device and transport: the adds and copies go through a KernelOps
// (cpu_ops() for host buffers, cuda_ops() for device buffers), the data movement through a
// Comm (MPI or local for host buffers, NCCL for device buffers). Tested on the CPU; the CUDA
// path differs only in the table and the transport.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "comm/comm.h"
#include "comm/tree_split.h"
#include "core/sharding.h"
#include "kernels/ops.h"

namespace cairn {

// Midpoint of the canonical tree.
inline int tree_mid(int lo, int hi) { return lo + (hi - lo) / 2; }

// Sum of values[lo..hi) in the canonical tree (scalars: micro-batch losses, rank partials).
inline double tree_sum(const double* values, int lo, int hi) {
  if (hi - lo == 1) return values[lo];
  int mid = tree_mid(lo, hi);
  return tree_sum(values, lo, mid) + tree_sum(values, mid, hi);
}

// Depth of the buffers tree_accumulate needs for a block of `count` leaves.
int tree_levels(int count);

// Computes the canonical tree sum of `count` leaves [lo, lo+count) into levels[0], evaluating
// leaves in order: leaf(k, out) must *overwrite* out (n floats) with leaf k's value.
// `levels` holds tree_levels(count) buffers of n floats each, on the device of `ops`.
void tree_accumulate(int lo, int count, const std::vector<float*>& levels, int64_t n,
                     const std::function<void(int k, float* out)>& leaf,
                     const KernelOps& ops = cpu_ops());

// Reduce-scatter of this rank's partials so that it ends with its owned slice
// (owned_range(total, rank, W)) of the canonical sum over all G micro-batches, in `owned_out`.
// `partials` holds split.parts(rank) full-length (total floats) sums of this rank's subtrees,
// split.nodes[split.first_node[rank]...] in order. The exchange runs in split.max_parts()
// all-to-all rounds, round i carrying every rank's i-th partial: one round, the same call and
// bytes as a plain reduce-scatter, when each rank has one partial. Buffers live on the device
// of `ops` (and of the comm's transport); `scratch` holds reduce_scatter_scratch_floats(total,
// split) floats, and its first owned-slice-sized piece ends holding the result too, so
// `owned_out` may be `scratch` (no copy then). At W = 1 this is a copy of partials[0] (no
// scratch needed) unless the comm moves data at one rank too (skips_single_rank_collectives
// false: NCCL, so that one GPU runs the all-to-all).
void reduce_scatter_canonical(Comm& comm, const KernelOps& ops, const TreeSplit& split,
                              const std::vector<const float*>& partials, int64_t total, float* owned_out,
                              float* scratch);
int64_t reduce_scatter_scratch_floats(int64_t total, const TreeSplit& split);
// Floats this rank sends to the other ranks per reduce-scatter (its parts times the slices it
// does not own).
int64_t reduce_scatter_sent_floats(int64_t total, const TreeSplit& split, int rank);
// One line for the start-up log: blocks, partials per rank, and the bytes each rank sends
// relative to one partial per rank (the power-of-two case).
std::string describe_exchange(const TreeSplit& split, int64_t total);

// One partial per rank (each rank's block sum is a node: W a power of two dividing G, or W = G),
// combined in the tree over rank index: the above with split_tree(W, W).
void reduce_scatter_canonical(Comm& comm, const KernelOps& ops, const float* block_sum, int64_t total,
                              float* owned_out, float* scratch);
int64_t reduce_scatter_scratch_floats(int64_t total, int world);
// Host buffers: the same with cpu_ops(), `scratch` resized as needed.
void reduce_scatter_canonical(Comm& comm, const float* block_sum, int64_t total,
                              float* owned_out, std::vector<float>& scratch);

// All-gather of owned slices into the full buffer (in place: each rank's slice already sits
// at its offset in `full`).
void allgather_owned(Comm& comm, float* full, int64_t total);

// Canonical sum of one double per rank: gathered, then summed in the tree over rank index.
double tree_sum_over_ranks(Comm& comm, double mine);
// Canonical sum of one double per micro-batch (losses): this rank's block values (split's
// block_size(rank) of them) are gathered from every rank, then summed in the tree over [0, G).
double tree_sum_over_blocks(Comm& comm, const TreeSplit& split, const double* block_values);

}  // namespace cairn

// comm/reduce.h — the canonical (world-size-invariant) reductions of DESIGN.md §2.
//
// The step gradient is the sum of G micro-batch gradients in one fixed binary tree:
// recursive halving of [0, G) at lo + (hi-lo)/2. Rank r of W (W a power of two dividing G)
// owns the micro-batch block [r*G/W, (r+1)*G/W), which is a node of that tree, so:
//   1. each rank sums its block with the same recursion (tree_accumulate below);
//   2. reduce_scatter_canonical: every rank sends slice j of its block sum to rank j
//      (one all-to-all), and rank j adds the W partials with the same recursion over rank
//      index.
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
#include <vector>

#include "comm/comm.h"
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

// Reduce-scatter of a full-length block sum (total floats) so that this rank ends with its
// owned slice (owned_range(total, rank, W)) of the canonical sum over ranks, in `owned_out`.
// Buffers live on the device of `ops` (and of the comm's transport); `scratch` holds
// reduce_scatter_scratch_floats(total, W) floats.
void reduce_scatter_canonical(Comm& comm, const KernelOps& ops, const float* block_sum, int64_t total,
                              float* owned_out, float* scratch);
int64_t reduce_scatter_scratch_floats(int64_t total, int world);
// Host buffers: the same with cpu_ops(), `scratch` resized as needed.
void reduce_scatter_canonical(Comm& comm, const float* block_sum, int64_t total,
                              float* owned_out, std::vector<float>& scratch);

// All-gather of owned slices into the full buffer (in place: each rank's slice already sits
// at its offset in `full`).
void allgather_owned(Comm& comm, float* full, int64_t total);

// Canonical sum of one double per rank (losses): gathered, then summed in the tree.
double tree_sum_over_ranks(Comm& comm, double mine);

}  // namespace cairn

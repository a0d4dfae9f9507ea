// kernels/cuda/common.cuh — device helpers shared by the CUDA kernels: fixed-order warp and
// block reductions, and a two-pass deterministic column sum.
//
// Every reduction here has an order fixed by the shape and the launch configuration alone
// (xor-butterfly shuffles, warp partials combined by warp 0 in index order), never by timing:
// no atomics, so the same inputs give the same bits on every run.
#pragma once

#include <cstdint>

#include "kernels/cuda/context.h"

namespace cairn::cuda {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

// Butterfly sum over a warp; every lane ends with the same value (a+b == b+a in IEEE).
template <typename T>
__device__ inline T warp_sum(T v) {
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

template <typename T>
__device__ inline T warp_max(T v) {
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
    const T o = __shfl_xor_sync(kFullMask, v, offset);
    v = o > v ? o : v;
  }
  return v;
}

// Block-wide sum for blockDim.x a multiple of 32 (<= 1024); every thread gets the result.
// `shared` holds >= 32 values. Ends with __syncthreads, so it can be called repeatedly.
template <typename T>
__device__ inline T block_sum(T v, T* shared) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int n_warps = blockDim.x / kWarpSize;
  v = warp_sum(v);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = lane < n_warps ? shared[lane] : T(0);
  total = warp_sum(total);
  __syncthreads();
  return total;
}

template <typename T>
__device__ inline T block_max(T v, T* shared) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int n_warps = blockDim.x / kWarpSize;
  v = warp_max(v);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = lane < n_warps ? shared[lane] : shared[0];
  total = warp_max(total);
  __syncthreads();
  return total;
}

// Grid-stride loop bounds for elementwise kernels over n elements.
inline int elementwise_blocks(int64_t n, int threads) {
  const int64_t blocks = ceil_div(n, threads);
  return int(blocks < 65536 * 8 ? (blocks > 0 ? blocks : 1) : 65536 * 8);
}

// Deterministic column sums: rows are cut into chunks of kColumnChunkRows; pass 1 sums each
// chunk's rows in row order (one thread per column, double), pass 2 sums the chunk partials
// in chunk order. The order depends only on the number of rows.
constexpr int kColumnChunkRows = 64;

}  // namespace cairn::cuda

// kernels/cpu/gemm_tiles.h — products tiled over their output, one single-threaded GEMM per
// tile (private header).
//
// Multi-threaded BLAS gives different bits at different thread counts. Instead every output
// block of a product is computed by ONE single-threaded gemm() (gemm.h) over the FULL
// reduction dimension, and blocks are spread over threads with parallel_for. Block
// boundaries depend only on the shape, so each output element sees the same sequence of
// operations whatever the thread count.
#pragma once

#include <cstdint>

#include "core/parallel.h"
#include "kernels/cpu/gemm.h"

namespace cairn::cpu {

// Output blocks of a [rows, cols] result. 128 x 256 blocks keep the per-call packing
// overhead (each block re-packs its operands) to a few percent while giving enough blocks to
// balance GPT-2 shapes over the cores; both are constants, so the blocking is a function of
// shape.
inline constexpr int64_t kTileRows = 128;
inline constexpr int64_t kTileCols = 256;

// fn(r0, nr, c0, nc) for every block, in parallel.
template <typename Fn>
void for_each_output_tile(int64_t rows, int64_t cols, Fn&& fn) {
  const int64_t row_tiles = ceil_div(rows, kTileRows), col_tiles = ceil_div(cols, kTileCols);
  parallel_for(row_tiles * col_tiles, [&](int64_t tile) {
    const int64_t r0 = (tile / col_tiles) * kTileRows, c0 = (tile % col_tiles) * kTileCols;
    const int64_t nr = rows - r0 < kTileRows ? rows - r0 : kTileRows;
    const int64_t nc = cols - c0 < kTileCols ? cols - c0 : kTileCols;
    fn(r0, nr, c0, nc);
  });
}

}  // namespace cairn::cpu

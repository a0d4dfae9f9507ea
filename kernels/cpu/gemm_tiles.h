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

// Output blocks of a [rows, cols] result: 256 x 256 when that still gives at least
// kMinTiles blocks (enough to balance 2-4 threads), else 128 x 256. Bigger blocks amortise the
// per-call packing of the operands (a 256 x 256 block of a K = 768 product runs ~8% faster
// than a 128 x 256 one on the development machine); smaller ones keep short products (a
// micro-batch of 256 tokens) spread over the cores. The choice is a function of the shape
// alone — never of the thread count — so each element's sequence of operations is fixed.
inline constexpr int64_t kTileCols = 256;
inline constexpr int64_t kMinTiles = 12;
inline int64_t tile_rows(int64_t rows, int64_t cols) {
  return ceil_div(rows, 256) * ceil_div(cols, kTileCols) >= kMinTiles ? 256 : 128;
}

// fn(r0, nr, c0, nc) for every block, in parallel.
template <typename Fn>
void for_each_output_tile(int64_t rows, int64_t cols, Fn&& fn) {
  const int64_t tr = tile_rows(rows, cols);
  const int64_t row_tiles = ceil_div(rows, tr), col_tiles = ceil_div(cols, kTileCols);
  parallel_for(row_tiles * col_tiles, [&](int64_t tile) {
    const int64_t r0 = (tile / col_tiles) * tr, c0 = (tile % col_tiles) * kTileCols;
    const int64_t nr = rows - r0 < tr ? rows - r0 : tr;
    const int64_t nc = cols - c0 < kTileCols ? cols - c0 : kTileCols;
    fn(r0, nr, c0, nc);
  });
}

}  // namespace cairn::cpu

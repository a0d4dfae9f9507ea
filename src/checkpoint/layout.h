// checkpoint/layout.h — how a canonical Layout (checkpoint/state.h) tiles a flat buffer.
//
// The flat buffer [0, total) is cut into segments: each tensor, and each run of padding
// floats between tensors (or after the last one) as a "gap" segment named
// "__gap__@<flat offset>". Shards store the intersection of a rank's owned range with each
// segment as one piece, so pieces never straddle a tensor boundary and every float of every
// buffer, padding included, is stored exactly once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/state.h"

namespace cairn::ckpt {

struct Segment {
  std::string name;  // tensor name, or "__gap__@<begin>"
  int64_t begin = 0;  // flat element range
  int64_t end = 0;
  int tensor = -1;   // index into Layout::tensors, -1 for a gap
  int64_t origin = 0;  // where the whole segment starts (== begin unless clipped)
};

// Throws cairn::Error (prefixed by `where`) unless: total is a positive multiple of
// kChunkFloats; tensors have unique non-empty names, numel == prod(shape) > 0, ascending
// non-overlapping offsets within [0, total); export_shape (if any) fits in numel.
void validate_layout(const Layout& layout, const std::string& where);

// All segments of [0, total) in order.
std::vector<Segment> layout_segments(const Layout& layout);

// Segments clipped to [begin, end) (empty ones dropped), in order.
std::vector<Segment> clip_segments(const std::vector<Segment>& segments, int64_t begin, int64_t end);

// prod(shape); throws on overflow or negative dims.
int64_t shape_numel(const std::vector<int64_t>& shape);

}  // namespace cairn::ckpt

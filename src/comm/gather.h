// comm/gather.h — collectives on strings, built on the Comm interface.
//
// Used for small records (checkpoint shard tables, error messages, votes with reasons).
// Every rank must call these collectively, in the same order, like any Comm collective.
#pragma once

#include <string>
#include <vector>

#include "comm/comm.h"

namespace cairn {

// Every rank contributes one string (any bytes, any length); every rank receives all of
// them, element r from rank r. Two collectives: the lengths, then blocks padded to the
// longest.
std::vector<std::string> allgather_strings(Comm& comm, const std::string& mine);

// Every rank contributes one string; root receives all of them (element r from rank r),
// the other ranks an empty vector and only the W lengths (8 bytes each).
std::vector<std::string> gather_strings(Comm& comm, const std::string& mine, int root);

// Returns root's `s` on every rank (the argument is ignored on other ranks).
std::string broadcast_string(Comm& comm, std::string s, int root);

}  // namespace cairn

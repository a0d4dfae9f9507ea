// comm/gather.cpp — allgather_strings and broadcast_string over Comm's byte collectives.
#include "comm/gather.h"

#include <algorithm>
#include <cstdint>

#include "core/error.h"

namespace cairn {

std::vector<std::string> allgather_strings(Comm& comm, const std::string& mine) {
  const int world = comm.size();
  int64_t my_len = int64_t(mine.size());
  std::vector<int64_t> lens(size_t(world), 0);
  comm.allgather(&my_len, lens.data(), sizeof(int64_t));

  const int64_t block = *std::max_element(lens.begin(), lens.end());
  std::vector<std::string> out(static_cast<size_t>(world));
  if (block == 0) return out;
  std::string send = mine;
  send.resize(size_t(block), '\0');
  std::string recv(size_t(block) * size_t(world), '\0');
  comm.allgather(send.data(), recv.data(), size_t(block));
  for (int r = 0; r < world; ++r) {
    CAIRN_CHECK(lens[r] >= 0 && lens[r] <= block, "allgather_strings: bad length ", lens[r], " from rank ", r);
    out[size_t(r)] = recv.substr(size_t(r) * size_t(block), size_t(lens[r]));
  }
  return out;
}

std::string broadcast_string(Comm& comm, std::string s, int root) {
  int64_t len = comm.rank() == root ? int64_t(s.size()) : 0;
  comm.broadcast(&len, sizeof(len), root);
  CAIRN_CHECK(len >= 0, "broadcast_string: bad length ", len, " from rank ", root);
  s.resize(size_t(len));
  if (len > 0) comm.broadcast(s.data(), size_t(len), root);
  return s;
}

}  // namespace cairn

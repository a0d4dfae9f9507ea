// comm/gather.cpp — allgather_strings and broadcast_string over Comm's byte collectives.
#include "comm/gather.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

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

void Comm::gatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                         const std::vector<int64_t>& displs, int root) {
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  std::string all(size_t(std::max<int64_t>(total, 1)), '\0');
  std::vector<int64_t> packed(counts.size(), 0);
  for (size_t r = 1; r < counts.size(); ++r) packed[r] = packed[r - 1] + counts[r - 1];
  allgatherv_bytes(send, all.data(), counts, packed);
  if (rank() != root) return;
  for (size_t r = 0; r < counts.size(); ++r)
    if (counts[r] > 0) std::memcpy(static_cast<char*>(recv) + displs[r], all.data() + packed[r], size_t(counts[r]));
}

std::vector<std::string> gather_strings(Comm& comm, const std::string& mine, int root) {
  const int world = comm.size();
  int64_t my_len = int64_t(mine.size());
  std::vector<int64_t> lens(size_t(world), 0), displs(size_t(world), 0);
  comm.allgather(&my_len, lens.data(), sizeof(int64_t));
  int64_t total = 0;
  for (int r = 0; r < world; ++r) {
    CAIRN_CHECK(lens[size_t(r)] >= 0, "gather_strings: bad length ", lens[size_t(r)], " from rank ", r);
    displs[size_t(r)] = total;
    total += lens[size_t(r)];
  }
  // Never a null pointer to a backend (an empty string's data() is not null, but be explicit).
  std::string recv(comm.rank() == root ? size_t(total) : 0, '\0');
  std::string send = mine.empty() ? std::string(1, '\0') : mine;
  if (total > 0) comm.gatherv_bytes(send.data(), recv.data(), lens, displs, root);
  std::vector<std::string> out;
  if (comm.rank() != root) return out;
  for (int r = 0; r < world; ++r) out.push_back(recv.substr(size_t(displs[size_t(r)]), size_t(lens[size_t(r)])));
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

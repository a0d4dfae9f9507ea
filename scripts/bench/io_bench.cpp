// scripts/bench/io_bench.cpp — what makes checkpoint-sized writes and cold reads fast on a disk.
//
// Writes (then fsyncs) and cold-reads one file of --bytes (default: the 124M state, 1.485 GB)
// in each of several ways, alternating the methods round by round so that a disk whose speed
// drifts affects them all alike, and prints each method's median and range in GB/s:
//   write  buffered  write(2) calls of --chunk bytes, 1 thread or N threads (pwrite on
//                    disjoint ranges), fsync at the end                   [cairn today: 1 thread]
//          +dontneed the same, then posix_fadvise(DONTNEED) on the written file (page cache
//                    given back after the fsync)
//          +sfr      sync_file_range(WRITE) every 64 MiB so the kernel writes back as we go,
//                    DONTNEED of the range written back before (bounded dirty memory)
//          direct    O_DIRECT from 4 KiB-aligned buffers, 1 or N threads
//          uring     O_DIRECT through io_uring, queue depth N               (with liburing)
//   read   buffered  pread of --chunk bytes, 1 or N threads; +advise: POSIX_FADV_SEQUENTIAL and
//                    WILLNEED first                                        [cairn today: pread
//                    per piece, parallel over pieces]
//          direct    O_DIRECT, 1 or N threads
//          uring     O_DIRECT through io_uring, queue depth N
//   Each read is cold: the file is evicted (fsync + POSIX_FADV_DONTNEED) first. "+xxh3" on a
//   read also hashes what it read (cairn verifies checksums while reading).
//
// Build and run: scripts/bench/disk_io.sh (compiles this with -O2 [-luring]).
//   io_bench --dir DIR [--bytes N] [--rounds R] [--only SUBSTRING]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifdef IO_BENCH_URING
#include <liburing.h>
#endif

namespace {

constexpr int64_t MiB = int64_t(1) << 20;
constexpr int64_t kAlign = 4096;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "io_bench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

char* aligned_alloc_bytes(int64_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, size_t(kAlign), size_t((n + kAlign - 1) / kAlign * kAlign)) != 0) die("posix_memalign");
  return static_cast<char*>(p);
}

void evict(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) die("open " + path);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

void pwrite_all(int fd, const char* p, int64_t n, int64_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, size_t(n), off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die("pwrite");
    p += w, n -= w, off += w;
  }
}

void pread_all(int fd, char* p, int64_t n, int64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, size_t(n), off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("pread");
    p += r, n -= r, off += r;
  }
}

// Runs fn(t) on `threads` threads; thread t gets the t-th contiguous part of [0, bytes),
// split on `chunk` boundaries.
void split_threads(int threads, int64_t bytes, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t chunks = (bytes + chunk - 1) / chunk;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const int64_t c0 = chunks * t / threads, c1 = chunks * (t + 1) / threads;
    const int64_t b = c0 * chunk, e = std::min(bytes, c1 * chunk);
    pool.emplace_back([&fn, b, e] { if (e > b) fn(b, e); });
  }
  for (auto& th : pool) th.join();
}

struct Options {
  std::string dir;
  int64_t bytes = 1484977408;
  int rounds = 3;
  std::string only;
};

// ---- writes -------------------------------------------------------------------------------

double write_buffered(const std::string& path, const char* src, int64_t bytes, int64_t chunk, int threads,
                      bool dontneed, bool sfr) {
  const double t0 = now();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("open " + path);
  split_threads(threads, bytes, chunk, [&](int64_t b, int64_t e) {
    int64_t flushed = b;
    for (int64_t off = b; off < e; off += chunk) {
      const int64_t n = std::min(chunk, e - off);
      pwrite_all(fd, src + off, n, off);
      if (sfr && off + n - flushed >= 64 * MiB) {
        // Start write-back of what was just written; wait for (and drop) the range before it.
        ::sync_file_range(fd, flushed, off + n - flushed, SYNC_FILE_RANGE_WRITE);
        if (flushed - b >= 64 * MiB) {
          const int64_t prev = std::max(b, flushed - 64 * MiB);
          ::sync_file_range(fd, prev, flushed - prev,
                            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
          ::posix_fadvise(fd, prev, flushed - prev, POSIX_FADV_DONTNEED);
        }
        flushed = off + n;
      }
    }
  });
  if (::fsync(fd) != 0) die("fsync");
  if (dontneed) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  return now() - t0;
}

// O_DIRECT needs aligned offsets, sizes and memory: the source is copied through an aligned
// bounce buffer per thread (what a writer would do from an unaligned staging buffer); the
// last partial block is written with a normal fd after ftruncate.
double write_direct(const std::string& path, const char* src, int64_t bytes, int64_t chunk, int threads) {
  const double t0 = now();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
  if (fd < 0) die("open O_DIRECT " + path);
  const int64_t aligned = bytes / kAlign * kAlign;
  split_threads(threads, aligned, chunk, [&](int64_t b, int64_t e) {
    char* buf = aligned_alloc_bytes(chunk);
    for (int64_t off = b; off < e; off += chunk) {
      const int64_t n = std::min(chunk, e - off);
      std::memcpy(buf, src + off, size_t(n));
      pwrite_all(fd, buf, n, off);
    }
    std::free(buf);
  });
  ::close(fd);
  fd = ::open(path.c_str(), O_WRONLY);
  if (bytes > aligned) pwrite_all(fd, src + aligned, bytes - aligned, aligned);
  if (::fsync(fd) != 0) die("fsync");
  ::close(fd);
  return now() - t0;
}

#ifdef IO_BENCH_URING
// O_DIRECT through io_uring with `depth` requests in flight, each from its own aligned buffer.
double uring_io(const std::string& path, char* mem, int64_t bytes, int64_t chunk, int depth, bool write) {
  const double t0 = now();
  int fd = write ? ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644)
                 : ::open(path.c_str(), O_RDONLY | O_DIRECT);
  if (fd < 0) die("open O_DIRECT " + path);
  io_uring ring;
  if (io_uring_queue_init(unsigned(depth), &ring, 0) != 0) die("io_uring_queue_init");
  const int64_t aligned = bytes / kAlign * kAlign;
  std::vector<char*> bufs(static_cast<size_t>(depth), nullptr);
  for (auto& b : bufs) b = aligned_alloc_bytes(chunk);
  std::vector<int> free_slots;
  for (int i = depth - 1; i >= 0; --i) free_slots.push_back(i);
  std::map<int, std::pair<int64_t, int64_t>> inflight;  // slot -> (offset, bytes)
  int64_t next = 0;
  while (next < aligned || !inflight.empty()) {
    while (next < aligned && !free_slots.empty()) {
      const int slot = free_slots.back();
      free_slots.pop_back();
      const int64_t n = std::min(chunk, aligned - next);
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      if (write) {
        std::memcpy(bufs[size_t(slot)], mem + next, size_t(n));
        io_uring_prep_write(sqe, fd, bufs[size_t(slot)], unsigned(n), uint64_t(next));
      } else {
        io_uring_prep_read(sqe, fd, bufs[size_t(slot)], unsigned(n), uint64_t(next));
      }
      io_uring_sqe_set_data64(sqe, uint64_t(slot));
      inflight[slot] = {next, n};
      next += n;
    }
    io_uring_submit(&ring);
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&ring, &cqe) != 0) die("io_uring_wait_cqe");
    const int slot = int(io_uring_cqe_get_data64(cqe));
    const auto [off, n] = inflight[slot];
    if (cqe->res != n) {
      errno = cqe->res < 0 ? -cqe->res : EIO;
      die("io_uring short or failed request");
    }
    io_uring_cqe_seen(&ring, cqe);
    if (!write) std::memcpy(mem + off, bufs[size_t(slot)], size_t(n));
    inflight.erase(slot);
    free_slots.push_back(slot);
  }
  io_uring_queue_exit(&ring);
  for (char* b : bufs) std::free(b);
  ::close(fd);
  fd = ::open(path.c_str(), write ? O_WRONLY : O_RDONLY);
  if (bytes > aligned) {
    if (write) pwrite_all(fd, mem + aligned, bytes - aligned, aligned);
    else pread_all(fd, mem + aligned, bytes - aligned, aligned);
  }
  if (write && ::fsync(fd) != 0) die("fsync");
  ::close(fd);
  return now() - t0;
}
#endif

// ---- reads (cold) -------------------------------------------------------------------------

double read_buffered(const std::string& path, char* dst, int64_t bytes, int64_t chunk, int threads, bool advise,
                     bool hash) {
  evict(path);
  const double t0 = now();
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) die("open " + path);
  if (advise) {
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
  }
  std::atomic<uint64_t> sink{0};
  split_threads(threads, bytes, chunk, [&](int64_t b, int64_t e) {
    for (int64_t off = b; off < e; off += chunk) {
      const int64_t n = std::min(chunk, e - off);
      pread_all(fd, dst + off, n, off);
      if (hash) sink += XXH3_64bits(dst + off, size_t(n));
    }
  });
  ::close(fd);
  return now() - t0 + 0 * double(sink.load());
}

double read_direct(const std::string& path, char* dst, int64_t bytes, int64_t chunk, int threads) {
  evict(path);
  const double t0 = now();
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT);
  if (fd < 0) die("open O_DIRECT " + path);
  const int64_t aligned = bytes / kAlign * kAlign;
  split_threads(threads, aligned, chunk, [&](int64_t b, int64_t e) {
    char* buf = aligned_alloc_bytes(chunk);
    for (int64_t off = b; off < e; off += chunk) {
      const int64_t n = std::min(chunk, e - off);
      pread_all(fd, buf, n, off);
      std::memcpy(dst + off, buf, size_t(n));
    }
    std::free(buf);
  });
  ::close(fd);
  fd = ::open(path.c_str(), O_RDONLY);
  if (bytes > aligned) pread_all(fd, dst + aligned, bytes - aligned, aligned);
  ::close(fd);
  return now() - t0;
}

struct Method {
  std::string name;
  std::function<double()> run;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") o.dir = v;
    else if (k == "--bytes") o.bytes = std::stoll(v);
    else if (k == "--rounds") o.rounds = std::stoi(v);
    else if (k == "--only") o.only = v;
    else { std::fprintf(stderr, "io_bench: unknown option %s\n", k.c_str()); return 2; }
  }
  if (o.dir.empty()) { std::fprintf(stderr, "usage: io_bench --dir DIR [--bytes N] [--rounds R] [--only S]\n"); return 2; }
  const std::string path = o.dir + "/io_bench.bin";

  // Random floats' bytes: incompressible, like a checkpoint's mantissas.
  char* src = aligned_alloc_bytes(o.bytes);
  char* dst = aligned_alloc_bytes(o.bytes);
  {
    std::mt19937_64 rng(42);
    auto* w = reinterpret_cast<uint64_t*>(src);
    for (int64_t i = 0; i < o.bytes / 8; ++i) w[i] = rng();
    std::memset(dst, 0, size_t(o.bytes));
  }
  const int64_t B = o.bytes;
  std::vector<Method> methods = {
      {"write buffered 1 thread, 16 MiB calls (cairn)", [&] { return write_buffered(path, src, B, 16 * MiB, 1, false, false); }},
      {"write buffered 1 thread, 1 MiB calls", [&] { return write_buffered(path, src, B, 1 * MiB, 1, false, false); }},
      {"write buffered 1 thread, 256 MiB calls", [&] { return write_buffered(path, src, B, 256 * MiB, 1, false, false); }},
      {"write buffered 2 threads, 16 MiB", [&] { return write_buffered(path, src, B, 16 * MiB, 2, false, false); }},
      {"write buffered 4 threads, 16 MiB", [&] { return write_buffered(path, src, B, 16 * MiB, 4, false, false); }},
      {"write buffered 1 thread +dontneed", [&] { return write_buffered(path, src, B, 16 * MiB, 1, true, false); }},
      {"write buffered 1 thread +sync_file_range", [&] { return write_buffered(path, src, B, 16 * MiB, 1, false, true); }},
      {"write O_DIRECT 1 thread, 16 MiB", [&] { return write_direct(path, src, B, 16 * MiB, 1); }},
      {"write O_DIRECT 4 threads, 16 MiB", [&] { return write_direct(path, src, B, 16 * MiB, 4); }},
      {"write O_DIRECT 1 thread, 64 MiB", [&] { return write_direct(path, src, B, 64 * MiB, 1); }},
#ifdef IO_BENCH_URING
      {"write io_uring O_DIRECT QD 8, 4 MiB", [&] { return uring_io(path, src, B, 4 * MiB, 8, true); }},
      {"write io_uring O_DIRECT QD 4, 16 MiB", [&] { return uring_io(path, src, B, 16 * MiB, 4, true); }},
#endif
      {"read buffered 1 thread, 16 MiB (cairn, 1 piece at a time)", [&] { return read_buffered(path, dst, B, 16 * MiB, 1, false, false); }},
      {"read buffered 1 thread, 16 MiB +xxh3", [&] { return read_buffered(path, dst, B, 16 * MiB, 1, false, true); }},
      {"read buffered 1 thread +fadvise SEQUENTIAL, WILLNEED", [&] { return read_buffered(path, dst, B, 16 * MiB, 1, true, false); }},
      {"read buffered 2 threads, 16 MiB +xxh3", [&] { return read_buffered(path, dst, B, 16 * MiB, 2, false, true); }},
      {"read buffered 4 threads, 16 MiB", [&] { return read_buffered(path, dst, B, 16 * MiB, 4, false, false); }},
      {"read buffered 4 threads, 16 MiB +xxh3", [&] { return read_buffered(path, dst, B, 16 * MiB, 4, false, true); }},
      {"read buffered 8 threads, 4 MiB", [&] { return read_buffered(path, dst, B, 4 * MiB, 8, false, false); }},
      {"read O_DIRECT 1 thread, 16 MiB", [&] { return read_direct(path, dst, B, 16 * MiB, 1); }},
      {"read O_DIRECT 4 threads, 16 MiB", [&] { return read_direct(path, dst, B, 16 * MiB, 4); }},
#ifdef IO_BENCH_URING
      {"read io_uring O_DIRECT QD 8, 4 MiB", [&] { evict(path); return uring_io(path, dst, B, 4 * MiB, 8, false); }},
      {"read io_uring O_DIRECT QD 16, 1 MiB", [&] { evict(path); return uring_io(path, dst, B, 1 * MiB, 16, false); }},
#endif
  };
  // --only: comma-separated substrings of method names.
  std::vector<Method> chosen;
  for (auto& m : methods) {
    bool keep = o.only.empty();
    for (size_t b = 0; !keep && b <= o.only.size();) {
      size_t e = o.only.find(',', b);
      if (e == std::string::npos) e = o.only.size();
      keep = e > b && m.name.find(o.only.substr(b, e - b)) != std::string::npos;
      b = e + 1;
    }
    if (keep) chosen.push_back(m);
  }
  // Writes first, then reads; each group's order rotates round by round, because the method
  // that runs right after a switch (or after the previous round) was measured slower.
  std::vector<Method> writes, reads;
  for (auto& m : chosen) (m.name.rfind("read", 0) == 0 ? reads : writes).push_back(m);

  std::map<std::string, std::vector<double>> rates;
  for (int r = 0; r < o.rounds; ++r) {
    std::vector<Method> order;
    for (auto* group : {&writes, &reads})
      for (size_t i = 0; i < group->size(); ++i) order.push_back((*group)[(i + size_t(r)) % group->size()]);
    for (auto& m : order) {
      // Reads need the file: written once (buffered) if no write came before in this round.
      struct stat st {};
      if (m.name.rfind("read", 0) == 0 && (::stat(path.c_str(), &st) != 0 || st.st_size != B))
        write_buffered(path, src, B, 16 * MiB, 1, false, false);
      const double s = m.run();
      rates[m.name].push_back(double(B) / s / 1e9);
      std::fprintf(stderr, "round %d  %-60s %.2f GB/s\n", r + 1, m.name.c_str(), double(B) / s / 1e9);
    }
  }
  std::printf("| method (%.3f GB file, %d rounds) | median GB/s | min-max |\n|---|---:|---|\n", double(B) / 1e9,
              o.rounds);
  for (auto& m : chosen) {
    std::vector<double> v = rates[m.name];
    std::sort(v.begin(), v.end());
    const double med = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    std::printf("| %s | %.2f | %.2f-%.2f |\n", m.name.c_str(), med, v.front(), v.back());
  }
  ::unlink(path.c_str());
  std::free(src);
  std::free(dst);
  return 0;
}

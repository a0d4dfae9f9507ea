// checkpoint/file_io.h — POSIX file primitives for crash-safe checkpoint I/O.
//
// Everything a checkpoint writes goes through these: large buffered writes, fsync of files
// and directories, write-temp-fsync-rename replacement, positional reads. Failures throw
// cairn::Error with one line naming the path, the OS reason and, where there is one, the fix
// (e.g. "…/rank_00000-of-00004.safetensors.partial: write failed: No space left on device
// (free disk space or lower checkpoint.keep_last)").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cairn::ckpt {

// "strerror(err) (hint)" for an errno value; the hint says what a user can do about it.
std::string os_reason(int err);

// Buffered sequential writer. Small writes gather in a buffer of kWriteBufferBytes; a write
// of kDirectWriteBytes or more goes straight to the file (in calls of up to kMaxWriteCall
// bytes), without a copy into the buffer: the kernel's copy finds a window the caller has
// just hashed still in the CPU's cache. close() flushes, fsyncs and closes and must be
// called for the data to count; the destructor only closes (a file never close()d is left
// incomplete, which callers treat as failure).
//
// Streamed write-back: every kWritebackWindow bytes the writer asks the kernel to start
// writing the window just written (sync_file_range WRITE), waits for the window before it
// and drops it from the page cache (POSIX_FADV_DONTNEED). The disk then works while the
// writer copies, instead of all at once in the final fsync, and a save does not fill the page
// cache with dirty checkpoint data. Measured faster on this machine's disk than plain
// buffered writes, more writer threads, O_DIRECT or io_uring (docs/benchmarks.md,
// scripts/bench/disk_io.sh). Durability is unchanged: close() still fsyncs. A file system
// without sync_file_range just skips it.
//
// Direct mode (kDirect) trades that speed for CPU: every byte is copied into an aligned
// buffer and written with O_DIRECT in kWriteBufferBytes requests, so the kernel neither
// copies into nor reclaims page cache (the 124M state's write phase: 0.2 s of CPU against
// 0.55 s streamed, scripts/bench/ckpt_io.sh in docs/benchmarks.md). For the asynchronous
// writer, whose CPU time is taken from training while its speed hardly matters. The tail
// that is not a multiple of the alignment, and overwrite(), go through the page cache; a
// file system that refuses O_DIRECT gets streamed writes instead. The bytes are the same.
class FileWriter {
 public:
  static constexpr int64_t kWriteBufferBytes = int64_t(16) << 20;
  static constexpr int64_t kDirectWriteBytes = int64_t(64) << 10;
  static constexpr int64_t kMaxWriteCall = int64_t(64) << 20;
  static constexpr int64_t kWritebackWindow = int64_t(64) << 20;

  // Creates or truncates `path`, mode 0644. writeback_window: bytes per streamed write-back
  // window (tests use small ones; 0 = no streaming, plain buffered writes).
  enum Mode { kStreamed, kDirect };
  explicit FileWriter(std::string path, int64_t writeback_window = kWritebackWindow, Mode mode = kStreamed);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void write(const void* data, int64_t bytes);
  void write_zeros(int64_t bytes);
  // Replaces bytes already written at [offset, offset + bytes) (e.g. a header reserved
  // earlier); the write position stays at the end.
  void overwrite(int64_t offset, const void* data, int64_t bytes);
  int64_t bytes_written() const { return written_ + int64_t(used_); }
  void close();  // flush + fsync + close
  const std::string& path() const { return path_; }

 private:
  void flush();
  void write_out(const void* data, int64_t bytes);
  void stream_writeback();  // sync_file_range/fadvise on whole windows written so far
  void leave_direct_mode();  // O_DIRECT off: buffered writes from here on

  std::string path_;
  int fd_ = -1;
  bool direct_ = false;  // the file is open with O_DIRECT, buf_ aligned for it
  std::unique_ptr<char, void (*)(void*)> buf_{nullptr, nullptr};
  size_t used_ = 0;
  int64_t written_ = 0;
  int64_t started_ = 0;    // write-back started for [0, started_)
  int64_t dropped_ = 0;    // written back and dropped from the page cache: [0, dropped_)
  int64_t window_ = kWritebackWindow;
  bool writeback_ = true;  // false when off, or once the file system said sync_file_range is unsupported
};

// Read-only file descriptor shared by copies (shards are read from many threads with pread).
class ReadFile {
 public:
  static ReadFile open(const std::string& path);
  const std::string& path() const { return *path_; }
  int64_t size() const { return size_; }
  // Exactly `bytes` bytes at `offset`; a short read (file shrank) is an error naming the file.
  void pread_exact(int64_t offset, int64_t bytes, void* out) const;

 private:
  std::shared_ptr<const std::string> path_;
  std::shared_ptr<int> fd_;
  int64_t size_ = 0;
};

// Whole small file (manifest, `latest`) as a string; refuses files over max_bytes.
std::string read_small_file(const std::string& path, int64_t max_bytes);

// Replace `path` atomically: write path + ".tmp", fsync, rename over `path`, fsync the
// directory. Readers see the old or the new content, never a mix.
void write_file_atomic(const std::string& path, const std::string& content);

void fsync_dir(const std::string& dir);
void rename_path(const std::string& from, const std::string& to);  // rename(2), errors name both
// Swaps two existing paths atomically (renameat2 RENAME_EXCHANGE). Returns false where the file
// system cannot (EINVAL, ENOSYS, ENOTSUP); throws, naming both, on any other failure.
bool exchange_paths(const std::string& a, const std::string& b);
void make_dir(const std::string& dir);                              // mkdir -p
void remove_tree(const std::string& path);                          // rm -r; absent is fine

bool is_dir(const std::string& path);
bool is_file(const std::string& path);
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace cairn::ckpt

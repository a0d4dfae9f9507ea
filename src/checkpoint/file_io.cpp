// checkpoint/file_io.cpp — buffered fsync'ing writer, pread reader, atomic replace, dirs.
#include "checkpoint/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace cairn::ckpt {
namespace fs = std::filesystem;

std::string os_reason(int err) {
  std::string reason = std::strerror(err);
  switch (err) {
    case ENOSPC: return reason + " (free disk space, or lower checkpoint.keep_last)";
    case EDQUOT: return reason + " (disk quota exceeded: free space or raise the quota)";
    case EROFS: return reason + " (the file system is read-only: point run.dir at a writable location)";
    case EACCES:
    case EPERM: return reason + " (make the directory writable, or point run.dir elsewhere)";
    case EFBIG: return reason + " (a file size limit was hit: check `ulimit -f`)";
    case ENOENT: return reason + " (does the path exist?)";
    case EIO: return reason + " (I/O error: check the disk)";
    default: return reason;
  }
}

// ---- FileWriter ---------------------------------------------------------------------------

constexpr int64_t kDirectAlign = 4096;  // O_DIRECT: buffer address, file offset and length

FileWriter::FileWriter(std::string path, int64_t writeback_window, Mode mode)
    : path_(std::move(path)), window_(writeback_window), writeback_(writeback_window > 0) {
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  if (mode == kDirect) {
    fd_ = ::open(path_.c_str(), flags | O_DIRECT, 0644);
    direct_ = fd_ >= 0;
    if (fd_ < 0 && errno != EINVAL) CAIRN_FAIL(path_, ": cannot create file: ", os_reason(errno));
  }
  if (fd_ < 0) fd_ = ::open(path_.c_str(), flags, 0644);  // streamed, or no O_DIRECT here (EINVAL)
  if (fd_ < 0) CAIRN_FAIL(path_, ": cannot create file: ", os_reason(errno));
  buf_ = {static_cast<char*>(std::aligned_alloc(size_t(kDirectAlign), size_t(kWriteBufferBytes))), std::free};
  if (!buf_) CAIRN_FAIL(path_, ": out of memory for the write buffer");
}

void FileWriter::leave_direct_mode() {
  if (!direct_) return;
  const int fl = ::fcntl(fd_, F_GETFL);
  if (fl < 0 || ::fcntl(fd_, F_SETFL, fl & ~O_DIRECT) != 0)
    CAIRN_FAIL(path_, ": cannot turn O_DIRECT off: ", os_reason(errno));
  direct_ = false;
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWriter::write_out(const void* data, int64_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::write(fd_, p, size_t(std::min(bytes, kMaxWriteCall)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && direct_) {  // the file system wants other alignment: buffered
      leave_direct_mode();
      continue;
    }
    if (n < 0) CAIRN_FAIL(path_, ": write failed: ", os_reason(errno));
    if (n == 0) CAIRN_FAIL(path_, ": write failed: no progress (disk full?)");
    p += n;
    bytes -= n;
    written_ += n;
    stream_writeback();
  }
}

void FileWriter::stream_writeback() {
  if (direct_ || !writeback_ || written_ - started_ < window_) return;
  const int64_t end = written_ / window_ * window_;
  // Wait for the windows started before, then start this one: at most two windows are in
  // flight, the disk never idles between them.
  // False when the file system does not support sync_file_range (EINVAL, ENOSYS, ESPIPE):
  // plain buffered writes from then on. A write error must not be swallowed: the kernel
  // reports it once, and fsync would not see it again.
  auto range = [&](int64_t offset, int64_t bytes, unsigned flags) {
    if (::sync_file_range(fd_, offset, bytes, flags) == 0) return true;
    if (errno != EINVAL && errno != ENOSYS && errno != ESPIPE) CAIRN_FAIL(path_, ": write failed: ", os_reason(errno));
    writeback_ = false;
    return false;
  };
  if (started_ > dropped_) {
    if (!range(dropped_, started_ - dropped_,
               SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER))
      return;
    ::posix_fadvise(fd_, dropped_, started_ - dropped_, POSIX_FADV_DONTNEED);
    dropped_ = started_;
  }
  if (range(started_, end - started_, SYNC_FILE_RANGE_WRITE)) started_ = end;
}

void FileWriter::flush() {
  size_t used = used_;
  used_ = 0;
  if (used == 0) return;
  if (direct_) {  // the aligned part directly; a tail (only at the end or before overwrite) buffered
    const int64_t aligned = int64_t(used) / kDirectAlign * kDirectAlign;
    if (aligned > 0) write_out(buf_.get(), aligned);
    if (int64_t(used) == aligned) return;
    leave_direct_mode();
    write_out(buf_.get() + aligned, int64_t(used) - aligned);
    return;
  }
  write_out(buf_.get(), int64_t(used));
}

void FileWriter::write(const void* data, int64_t bytes) {
  CAIRN_CHECK(fd_ >= 0, path_, ": write after close");
  const char* p = static_cast<const char*>(data);
  if (direct_) {  // everything through the aligned buffer, written out whenever it is full
    while (bytes > 0) {
      const int64_t n = std::min(bytes, kWriteBufferBytes - int64_t(used_));
      std::memcpy(buf_.get() + used_, p, size_t(n));
      used_ += size_t(n), p += n, bytes -= n;
      if (int64_t(used_) == kWriteBufferBytes) flush();
    }
    return;
  }
  if (bytes < kDirectWriteBytes && int64_t(used_) + bytes <= kWriteBufferBytes) {
    std::memcpy(buf_.get() + used_, p, size_t(bytes));
    used_ += size_t(bytes);
    return;
  }
  flush();
  if (bytes >= kDirectWriteBytes) {
    write_out(p, bytes);
  } else {
    std::memcpy(buf_.get(), p, size_t(bytes));
    used_ = size_t(bytes);
  }
}

void FileWriter::write_zeros(int64_t bytes) {
  static const char zeros[4096] = {};
  while (bytes > 0) {
    int64_t n = std::min<int64_t>(bytes, sizeof(zeros));
    write(zeros, n);
    bytes -= n;
  }
}

void FileWriter::overwrite(int64_t offset, const void* data, int64_t bytes) {
  CAIRN_CHECK(fd_ >= 0, path_, ": write after close");
  CAIRN_CHECK(offset >= 0 && offset + bytes <= bytes_written(), path_, ": overwrite past the end");
  flush();
  leave_direct_mode();
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::pwrite(fd_, p, size_t(std::min(bytes, kMaxWriteCall)), off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) CAIRN_FAIL(path_, ": write failed: ", os_reason(errno));
    if (n == 0) CAIRN_FAIL(path_, ": write failed: no progress (disk full?)");
    p += n;
    offset += n;
    bytes -= n;
  }
}

void FileWriter::close() {
  CAIRN_CHECK(fd_ >= 0, path_, ": closed twice");
  flush();
  if (::fsync(fd_) != 0) CAIRN_FAIL(path_, ": fsync failed: ", os_reason(errno));
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) CAIRN_FAIL(path_, ": close failed: ", os_reason(errno));
}

// ---- ReadFile -----------------------------------------------------------------------------

ReadFile ReadFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) CAIRN_FAIL(path, ": cannot open: ", os_reason(errno));
  ReadFile f;
  f.fd_ = std::shared_ptr<int>(new int(fd), [](int* p) { ::close(*p); delete p; });
  f.path_ = std::make_shared<const std::string>(path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) CAIRN_FAIL(path, ": cannot stat: ", os_reason(errno));
  CAIRN_CHECK(S_ISREG(st.st_mode), path, ": not a regular file");
  f.size_ = int64_t(st.st_size);
  return f;
}

void ReadFile::pread_exact(int64_t offset, int64_t bytes, void* out) const {
  char* p = static_cast<char*>(out);
  while (bytes > 0) {
    ssize_t n = ::pread(*fd_, p, size_t(std::min<int64_t>(bytes, int64_t(1) << 30)), off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) CAIRN_FAIL(*path_, ": read failed: ", os_reason(errno));
    if (n == 0) CAIRN_FAIL(*path_, ": unexpected end of file at byte ", offset, " (file truncated?)");
    p += n;
    offset += n;
    bytes -= n;
  }
}

// ---- whole files and directories ----------------------------------------------------------

std::string read_small_file(const std::string& path, int64_t max_bytes) {
  ReadFile f = ReadFile::open(path);
  CAIRN_CHECK(f.size() <= max_bytes, path, ": ", f.size(), " bytes is larger than the limit of ",
              max_bytes, " (not the file it should be?)");
  std::string s(size_t(f.size()), '\0');
  f.pread_exact(0, f.size(), s.data());
  return s;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  FileWriter w(tmp);
  w.write(content.data(), int64_t(content.size()));
  w.close();
  rename_path(tmp, path);
  fsync_dir(fs::path(path).parent_path().string());
}

void fsync_dir(const std::string& dir) {
  std::string d = dir.empty() ? "." : dir;
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) CAIRN_FAIL(d, ": cannot open directory to fsync it: ", os_reason(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems cannot fsync directories (EINVAL); the rename is then as durable as
  // the file system makes it.
  if (rc != 0 && err != EINVAL) CAIRN_FAIL(d, ": fsync of directory failed: ", os_reason(err));
}

void rename_path(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    CAIRN_FAIL(from, ": cannot rename to ", to, ": ", os_reason(errno));
}

bool exchange_paths(const std::string& a, const std::string& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return true;
  if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) return false;
  CAIRN_FAIL(a, ": cannot exchange with ", b, ": ", os_reason(errno));
}

void make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) CAIRN_FAIL(dir, ": cannot create directory: ", os_reason(ec.value()));
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) CAIRN_FAIL(path, ": cannot remove: ", os_reason(ec.value()));
}

bool is_dir(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

bool is_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace cairn::ckpt

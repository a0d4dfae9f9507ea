// train/run_lock.cpp — flock-based exclusive run directory (see run_lock.h).
#include "train/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "core/error.h"
#include "core/log.h"

namespace cairn {
namespace {

std::string lock_path(const std::string& run_dir) {
  return run_dir.empty() || run_dir.back() == '/' ? run_dir + kRunLockFile : run_dir + "/" + kRunLockFile;
}

// "pid 1234 on host since 2026-01-31T12:00:00Z", from what the holder wrote (may be empty
// if it was killed between locking and writing).
std::string holder_of(int fd) {
  char buf[256] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, size_t(n)) : std::string();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c < 32 || c > 126) c = '?';
  return s.empty() ? "a process that has not written its id yet" : s;
}

std::string me() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return str("pid ", ::getpid(), " on ", host, " since ", when, "\n");
}

}  // namespace

RunDirLock RunDirLock::acquire(const std::string& run_dir) {
  const std::string path = lock_path(run_dir);
  RunDirLock lock;
  lock.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (lock.fd_ < 0) {
    // A run directory we cannot create a file in fails later with a better message (the
    // checkpoint writer names the fix); do not block training on the lock alone.
    log_warn(path, ": cannot create the run lock (", std::strerror(errno),
             "); continuing without protection against a second job on this run directory");
    return lock;
  }
  int rc;
  do rc = ::flock(lock.fd_, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK)
      CAIRN_FAIL("run directory ", run_dir, " is in use by another cairn train (", holder_of(lock.fd_),
                 "; lock ", path, "). Wait for that job to finish or stop it, or set another run.dir");
    log_warn(path, ": cannot lock (", std::strerror(err), "; does this file system support flock?); "
             "continuing without protection against a second job on this run directory");
    ::close(lock.fd_);
    lock.fd_ = -1;
    return lock;
  }
  const std::string id = me();
  if (::ftruncate(lock.fd_, 0) != 0 || ::pwrite(lock.fd_, id.data(), id.size(), 0) != ssize_t(id.size()))
    log_warn(path, ": locked, but could not record this process in it (", std::strerror(errno), ")");
  return lock;
}

RunDirLock::RunDirLock(RunDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RunDirLock& RunDirLock::operator=(RunDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RunDirLock::~RunDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace cairn

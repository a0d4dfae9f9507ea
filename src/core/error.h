// core/error.h — the one error policy of cairn.
//
// Code throws cairn::Error (via CAIRN_CHECK / CAIRN_FAIL); only main() turns an Error into a
// one-line message and an exit code. The `what()` text is meant for users: it should name
// the file or key at fault and, where there is one, the fix. The statement, file and line
// where the check failed are kept separately (where()) for --verbose and for developers.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace cairn {

// Concatenate anything streamable into a string: str("step ", 3, " of ", n).
template <typename... Args>
std::string str(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

class Error : public std::runtime_error {
 public:
  Error(std::string message, std::string where = {})
      : std::runtime_error(std::move(message)), where_(std::move(where)) {}
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// Usage errors (bad command line) exit with status 2 instead of 1.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace cairn

#define CAIRN_WHERE_(stmt) ::cairn::str(stmt, " at ", __FILE__, ":", __LINE__)

// CAIRN_CHECK(cond, message parts...): throw cairn::Error with the message if cond is false.
#define CAIRN_CHECK(cond, ...)                                          \
  do {                                                                  \
    if (!(cond)) throw ::cairn::Error(::cairn::str(__VA_ARGS__), CAIRN_WHERE_(#cond)); \
  } while (0)

#define CAIRN_FAIL(...) throw ::cairn::Error(::cairn::str(__VA_ARGS__), CAIRN_WHERE_("fail"))

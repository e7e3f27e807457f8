// Exit codes of the client commands. Scripts rely on these, so they are part
// of the CLI's interface (documented in docs/cli.md) and never renumbered.
#pragma once

#include <stdexcept>
#include <string>

namespace runnel::cli {

enum ExitCode : int {
  kExitOk = 0,           // the operation succeeded
  kExitFailed = 1,       // the broker refused or the operation failed (unknown topic, broker error, ...)
  kExitUsage = 2,        // bad command line: unknown option, malformed value, conflicting flags
  kExitUnreachable = 3,  // no broker answered within --timeout
};

// Thrown by command code; main() prints "runnel: <what>" on stderr (one line)
// and exits with `code`.
class CliError : public std::runtime_error {
 public:
  CliError(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

[[noreturn]] inline void fail(const std::string& message) { throw CliError(kExitFailed, message); }
[[noreturn]] inline void usage_error(const std::string& message) { throw CliError(kExitUsage, message); }

}  // namespace runnel::cli

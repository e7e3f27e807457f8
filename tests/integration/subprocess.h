// Runs a child program (kcat, ...) via fork/exec with a hard time limit.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace runnel::it {

struct ProcessResult {
  int exit_code = -1;      // exit status, or 128+signal when killed by a signal
  bool timed_out = false;  // killed by us after the time limit
  std::string out;         // stdout (unless redirected to a file)
  std::string err;         // stderr
};

struct ProcessOptions {
  std::string stdin_path;   // empty: /dev/null
  std::string stdout_path;  // empty: captured into ProcessResult::out
  std::chrono::milliseconds timeout{120000};
};

// argv[0] must be an absolute path. Never blocks longer than options.timeout
// (plus a short grace period for reaping a SIGKILLed child).
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options);

// Human-readable command line for failure messages.
std::string DescribeCommand(const std::vector<std::string>& argv);

}  // namespace runnel::it

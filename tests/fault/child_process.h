// Runs a program (nft, a probe, curl, etcdctl, ...) via fork/execve with extra
// environment entries and a hard time limit, capturing stdout and stderr.
// Like tests/integration/subprocess.h, plus the environment: fault tests start
// children with BindSourceEnvironment() (bind_source.h).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace runnel::fault {

struct ChildResult {
  int exit_code = -1;      // exit status, 128+signal when killed by a signal, -1 if it never ran
  bool timed_out = false;  // killed (SIGKILL) by us after the time limit
  std::string out;         // stdout
  std::string err;         // stderr (or why fork/exec failed)
  bool ok() const { return exit_code == 0 && !timed_out; }
};

// The current environment with `additions` ("KEY=VALUE") applied: an addition
// replaces an entry with the same key, others are appended. For execve().
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& additions);

// argv[0] must be an absolute path. Never blocks longer than `timeout` plus a
// short grace period for reaping the SIGKILLed child.
ChildResult RunChild(const std::vector<std::string>& argv, const std::vector<std::string>& env_additions = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Human-readable command line for failure messages.
std::string DescribeCommand(const std::vector<std::string>& argv);

}  // namespace runnel::fault

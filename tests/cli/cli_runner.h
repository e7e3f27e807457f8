// Runs the built `runnel` binary as a subprocess with a bounded time, and
// small helpers for checking its output.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace runnel::clitest {

struct CliResult {
  int exit_code = -1;
  bool timed_out = false;
  std::string out;
  std::string err;
  double seconds = 0;   // wall time of the run
  std::string command;  // for failure messages
};

// `runnel ARGS...` with `input` as stdin.
CliResult RunCli(const std::vector<std::string>& args, const std::string& input = "",
                 std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Non-empty lines of `text`, without their newlines.
std::vector<std::string> Lines(const std::string& text);

// Runs `python3 -c CODE` with `input` on stdin; returns its stdout, or
// "PYTHON-ERROR: <stderr>" if it failed.
std::string Python(const std::string& code, const std::string& input);

// True if `text` is one JSON document (checked with python3's json module).
bool IsJsonDocument(const std::string& text);

// `runnel ARGS...` running in the background (stdin /dev/null, output to
// files), for a long-lived consumer while other commands run.
class BackgroundCli {
 public:
  explicit BackgroundCli(const std::vector<std::string>& args);
  ~BackgroundCli();  // SIGKILLs the process if it still runs
  BackgroundCli(const BackgroundCli&) = delete;
  BackgroundCli& operator=(const BackgroundCli&) = delete;

  // SIGTERM, then wait up to `timeout`: the exit code, or -1 if it had to
  // be SIGKILLed.
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  std::string out() const;
  std::string err() const;

 private:
  int pid_ = -1;
  std::string dir_;
};

// Human-readable summary of a run for assertion messages.
std::string Describe(const CliResult& r);

}  // namespace runnel::clitest

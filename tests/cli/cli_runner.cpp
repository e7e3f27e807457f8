#include "cli_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "broker_process.h"
#include "file_util.h"
#include "subprocess.h"

#ifndef PYTHON3_EXECUTABLE
#define PYTHON3_EXECUTABLE "/usr/bin/python3"
#endif

namespace runnel::clitest {
namespace {

it::ProcessResult RunWithInput(const std::vector<std::string>& argv, const std::string& input,
                               std::chrono::milliseconds timeout) {
  const std::string dir = it::MakeTempDir("runnel-cli-in-");
  const std::string in_path = dir + "/stdin";
  it::WriteWholeFile(in_path, input);
  it::ProcessOptions options;
  options.stdin_path = in_path;
  options.timeout = timeout;
  auto result = it::RunProcess(argv, options);
  it::RemoveTree(dir);
  return result;
}

}  // namespace

CliResult RunCli(const std::vector<std::string>& args, const std::string& input, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{it::RunnelBinaryPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto start = std::chrono::steady_clock::now();
  const auto p = RunWithInput(argv, input, timeout);
  CliResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = p.exit_code;
  r.timed_out = p.timed_out;
  r.out = p.out;
  r.err = p.err;
  r.command = it::DescribeCommand(argv);
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      if (!cur.empty()) lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

std::string Python(const std::string& code, const std::string& input) {
  const auto p = RunWithInput({PYTHON3_EXECUTABLE, "-c", code}, input, std::chrono::seconds(30));
  if (p.exit_code != 0) return "PYTHON-ERROR: " + p.err;
  return p.out;
}

bool IsJsonDocument(const std::string& text) {
  return Python("import json,sys; json.load(sys.stdin); print('ok')", text) == "ok\n";
}

BackgroundCli::BackgroundCli(const std::vector<std::string>& args) {
  dir_ = it::MakeTempDir("runnel-cli-bg-");
  std::vector<std::string> argv{it::RunnelBinaryPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const std::string out_path = dir_ + "/stdout", err_path = dir_ + "/stderr";
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  pid_ = pid;
}

BackgroundCli::~BackgroundCli() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  it::RemoveTree(dir_);
}

int BackgroundCli::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

std::string BackgroundCli::out() const { return it::ReadWholeFile(dir_ + "/stdout"); }
std::string BackgroundCli::err() const { return it::ReadWholeFile(dir_ + "/stderr"); }

std::string Describe(const CliResult& r) {
  return r.command + "\n  exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + " after " +
         std::to_string(r.seconds) + "s\n  stdout: " + r.out.substr(0, 3000) + "\n  stderr: " + r.err.substr(0, 3000);
}

}  // namespace runnel::clitest

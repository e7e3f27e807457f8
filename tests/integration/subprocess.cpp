#include "subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "file_util.h"

namespace runnel::it {

namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string DescribeCommand(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    for (char c : a) {
      auto uc = static_cast<unsigned char>(c);
      if (uc < 0x20 || uc >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", uc);
        s += buf;
      } else {
        s += c;
      }
    }
  }
  return s;
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult result;
  std::string scratch = MakeTempDir("runnel-it-proc-");
  if (scratch.empty() || argv.empty()) return result;
  const std::string out_path = options.stdout_path.empty() ? scratch + "/stdout" : options.stdout_path;
  const std::string err_path = scratch + "/stderr";
  const std::string in_path = options.stdin_path.empty() ? "/dev/null" : options.stdin_path;

  // Everything the child needs is prepared before fork(): the parent may be
  // multi-threaded (librdkafka), so the child only calls async-signal-safe
  // functions before exec.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return result;
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  int status = 0;
  bool reaped = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      reaped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!reaped) {
    result.timed_out = true;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  result.exit_code = DecodeStatus(status);
  if (options.stdout_path.empty()) result.out = ReadWholeFile(out_path);
  result.err = ReadWholeFile(err_path);
  RemoveTree(scratch);
  return result;
}

}  // namespace runnel::it

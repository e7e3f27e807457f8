#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace runnel::fault {

namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string KeyOf(const std::string& entry) { return entry.substr(0, entry.find('=')); }

// Reads what is available on `fd` into `out`; false at EOF or error.
bool Drain(int fd, std::string& out) {
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) {
    out.append(buf, static_cast<size_t>(n));
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

}  // namespace

std::vector<std::string> EnvironmentWith(const std::vector<std::string>& additions) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    bool replaced = false;
    for (const auto& a : additions) replaced = replaced || KeyOf(a) == KeyOf(entry);
    if (!replaced) env.push_back(std::move(entry));
  }
  env.insert(env.end(), additions.begin(), additions.end());
  return env;
}

std::string DescribeCommand(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    const bool quote = a.empty() || a.find_first_of(" \t'\"{};") != std::string::npos;
    s += quote ? "'" + a + "'" : a;
  }
  return s;
}

ChildResult RunChild(const std::vector<std::string>& argv, const std::vector<std::string>& env_additions,
                     std::chrono::milliseconds timeout) {
  ChildResult result;
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    result.err = "RunChild: argv[0] must be an absolute path";
    return result;
  }
  // Everything the child needs is built before fork(): the parent may be
  // multi-threaded, so the child only calls async-signal-safe functions.
  const std::vector<std::string> env = EnvironmentWith(env_additions);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(out_pipe[1], 1) < 0 || ::dup2(err_pipe[1], 2) < 0) ::_exit(126);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    result.err = std::string("fork: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return result;
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true, reaped = false;
  int status = 0;
  // Until both pipes hit EOF and the child is reaped, or the deadline. A
  // grandchild holding the pipes open cannot stall us past the deadline.
  while (std::chrono::steady_clock::now() < deadline && !(reaped && !out_open && !err_open)) {
    pollfd fds[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0}, {err_open ? err_pipe[0] : -1, POLLIN, 0}};
    ::poll(fds, 2, 20);
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) out_open = Drain(out_pipe[0], result.out);
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) err_open = Drain(err_pipe[0], result.err);
    if (!reaped && ::waitpid(pid, &status, WNOHANG) == pid) reaped = true;
  }
  if (!reaped) {
    result.timed_out = true;
    ::kill(pid, SIGKILL);  // only the child we started, by its pid
    ::waitpid(pid, &status, 0);
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  result.exit_code = DecodeStatus(status);
  if (result.exit_code == 127 && !result.timed_out && result.err.empty())
    result.err = "cannot execute " + argv[0];
  return result;
}

}  // namespace runnel::fault

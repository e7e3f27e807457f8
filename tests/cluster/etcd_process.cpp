#include "etcd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace runnel::it {
namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in loopback_address(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw std::invalid_argument("EtcdProcess: host must be an IPv4 address, got '" + host + "'");
  return addr;
}

// Binds host:0 and returns the port the kernel chose (then closes it).
uint16_t free_port(const std::string& host) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr = loopback_address(host, 0);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) throw std::runtime_error("EtcdProcess: no free port on " + host);
  return port;
}

// The owning test (or suite) failed: keep the directory for inspection.
bool owner_failed() {
  auto* unit = ::testing::UnitTest::GetInstance();
  if (unit->current_test_info() != nullptr) return ::testing::Test::HasFailure();
  if (const auto* suite = unit->current_test_suite(); suite != nullptr) return suite->Failed();
  return unit->Failed();
}

std::vector<char*> c_argv(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& a : args) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(pid_t parent, int out_fd, char** argv, char** envp) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(125);  // the parent died before prctl
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_in < 0 || out_fd < 0) ::_exit(126);
  ::dup2(null_in, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string find_binary(const char* name) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    std::string path = std::string(dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return name;
}

}  // namespace

EtcdProcess::EtcdProcess() : EtcdProcess(Options{}) {}

EtcdProcess::EtcdProcess(Options options) : options_(std::move(options)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "runnel-etcd-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error(std::string("EtcdProcess: mkdtemp: ") + std::strerror(errno));
  dir_ = pattern;
  loopback_address(options_.host, 0);  // validates the host
}

EtcdProcess::~EtcdProcess() {
  stop();
  if (owner_failed()) {
    std::fprintf(stderr, "[etcd] keeping %s; etcd log tail:\n%s\n", dir_.c_str(), log_tail().c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string EtcdProcess::endpoint() const { return options_.host + ":" + std::to_string(client_port_); }

std::string EtcdProcess::log_tail(size_t lines) const {
  std::ifstream in(log_path());
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& line : tail) out += line + "\n";
  return out;
}

void EtcdProcess::start() {
  if (running()) throw std::runtime_error("EtcdProcess: already running (pid " + std::to_string(pid_) + ")");
  const bool fixed = client_port_ != 0 || options_.client_port != 0;
  std::string why;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (client_port_ == 0) client_port_ = options_.client_port != 0 ? options_.client_port : free_port(options_.host);
    if (peer_port_ == 0) {
      do {
        peer_port_ = free_port(options_.host);
      } while (peer_port_ == client_port_);
    }
    if (spawn_and_wait(why)) return;
    // A port taken between picking and binding: pick again, unless they are fixed
    // (a restart keeps its ports, so clients can reconnect to the same endpoint).
    if (fixed || why.find("exited") == std::string::npos) break;
    client_port_ = 0;
    peer_port_ = 0;
  }
  throw std::runtime_error("etcd did not start on " + endpoint() + ": " + why + "\n--- " + log_path() + " ---\n" +
                           log_tail());
}

bool EtcdProcess::spawn_and_wait(std::string& why) {
  const std::string client_url = "http://" + options_.host + ":" + std::to_string(client_port_);
  const std::string peer_url = "http://" + options_.host + ":" + std::to_string(peer_port_);
  std::vector<std::string> args = {find_binary("etcd"),
                                   "--name=runnel-test",
                                   "--data-dir=" + data_dir(),
                                   "--listen-client-urls=" + client_url,
                                   "--advertise-client-urls=" + client_url,
                                   "--listen-peer-urls=" + peer_url,
                                   "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=runnel-test=" + peer_url,
                                   "--initial-cluster-state=new",
                                   "--heartbeat-interval=" + std::to_string(options_.heartbeat_ms),
                                   "--election-timeout=" + std::to_string(options_.election_ms),
                                   "--auto-compaction-retention=0",
                                   "--logger=zap"};
  {
    std::ofstream banner(log_path(), std::ios::app);
    banner << "=== harness: starting";
    for (const auto& a : args) banner << ' ' << a;
    banner << "\n";
  }
  auto argv = c_argv(args);
  const int log_fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (log_fd >= 0) ::close(log_fd);
    why = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) exec_child(parent, log_fd, argv.data(), environ);
  if (log_fd >= 0) ::close(log_fd);
  pid_ = pid;
  paused_ = false;

  const auto deadline = Clock::now() + options_.start_timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      why = "etcd exited with status " + std::to_string(decode_status(status));
      return false;
    }
    if (healthy()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  why = "no healthy answer within " + std::to_string(options_.start_timeout.count()) + " ms";
  kill9();
  return false;
}

bool EtcdProcess::healthy() const {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = loopback_address(options_.host, client_port_);
  bool ok = false;
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  auto wait_for = [&](short events) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, events, 0};
    return left > 0 && ::poll(&p, 1, static_cast<int>(left)) == 1 && (p.revents & events) != 0;
  };
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 || errno == EINPROGRESS) {
    int err = 0;
    socklen_t len = sizeof err;
    if (wait_for(POLLOUT) && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
      const std::string request = "GET /health HTTP/1.1\r\nHost: etcd\r\nConnection: close\r\n\r\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        std::string answer;
        char buf[4096];
        while (wait_for(POLLIN)) {
          const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) break;
          answer.append(buf, static_cast<size_t>(n));
        }
        ok = answer.find("\"health\":\"true\"") != std::string::npos;
      }
    }
  }
  ::close(fd);
  return ok;
}

void EtcdProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  if (paused_) resume();
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
}

void EtcdProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  paused_ = false;
}

void EtcdProcess::pause() {
  if (pid_ > 0 && ::kill(pid_, SIGSTOP) == 0) paused_ = true;
}

void EtcdProcess::resume() {
  if (pid_ > 0 && ::kill(pid_, SIGCONT) == 0) paused_ = false;
}

void EtcdProcess::restart() {
  stop();
  start();
}

void EtcdProcess::set_client_port(uint16_t port) {
  if (running()) throw std::runtime_error("EtcdProcess: set_client_port while running");
  client_port_ = port != 0 ? port : free_port(options_.host);
}

bool EtcdProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
  pid_ = -1;
  return false;
}

std::string EtcdProcess::etcdctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> full = {find_binary("etcdctl"), "--endpoints=" + endpoint(),
                                   "--command-timeout=" + std::to_string(timeout.count()) + "ms"};
  full.insert(full.end(), args.begin(), args.end());
  auto argv = c_argv(full);
  std::vector<std::string> env = {"ETCDCTL_API=3"};
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "ETCDCTL_", 8) != 0) env.emplace_back(*e);
  }
  auto envp = c_argv(env);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) exec_child(parent, pipe_fds[1], argv.data(), envp.data());
  ::close(pipe_fds[1]);
  std::string output;
  const auto deadline = Clock::now() + timeout + std::chrono::seconds(5);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string command = "etcdctl";
  for (const auto& a : args) command += " " + a;
  if (timed_out) throw std::runtime_error(command + ": timed out: " + output);
  if (decode_status(status) != 0)
    throw std::runtime_error(command + ": exit status " + std::to_string(decode_status(status)) + ": " + output);
  return output;
}

}  // namespace runnel::it

#include "broker_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "file_util.h"

#ifndef RUNNEL_BINARY
#define RUNNEL_BINARY "runnel"
#endif

namespace runnel::it {

namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Whether the test (or, for a suite-wide broker, the test suite) that owns
// the broker has failed: then its data dir is kept for inspection.
bool OwnerFailed() {
  auto* unit = ::testing::UnitTest::GetInstance();
  if (unit->current_test_info() != nullptr) return ::testing::Test::HasFailure();
  if (const auto* suite = unit->current_test_suite(); suite != nullptr) return suite->Failed();
  return unit->Failed();
}

}  // namespace

std::string RunnelBinaryPath() {
  if (const char* env = std::getenv("RUNNEL_BINARY"); env != nullptr && *env != '\0') return env;
  return RUNNEL_BINARY;
}

std::uint16_t PickFreeLoopbackPort() { return PickFreePort("127.0.0.1"); }

std::uint16_t PickFreePort(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return 0;
  }
  addr.sin_port = 0;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool LoopbackPortAccepts(std::uint16_t port) { return PortAccepts("127.0.0.1", port); }

bool PortAccepts(const std::string& host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return false;
  }
  addr.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

BrokerProcess::BrokerProcess(std::vector<std::string> overrides)
    : BrokerProcess(std::move(overrides), BrokerProcessOptions{}) {}

BrokerProcess::BrokerProcess(std::vector<std::string> overrides, BrokerProcessOptions options)
    : overrides_(std::move(overrides)), options_(std::move(options)) {
  dir_ = MakeTempDir("runnel-it-");
  log_dir_ = dir_ + "/logs";
  stderr_path_ = dir_ + "/" + options_.name + ".stderr";
  port_ = options_.port != 0 ? options_.port : PickFreePort(options_.host);
  do {
    http_port_ = PickFreePort(options_.host);
  } while (http_port_ == port_ && port_ != 0);
}

BrokerProcess::~BrokerProcess() {
  if (pid_ > 0) {
    if (alive()) {
      ::kill(pid_, SIGTERM);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (alive() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (alive()) kill9();
    }
  }
  if (OwnerFailed()) {
    std::fprintf(stderr, "[%s] keeping data dir %s; stderr tail:\n%s\n", options_.name.c_str(), dir_.c_str(),
                 stderr_tail(40).c_str());
  } else {
    RemoveTree(dir_);
  }
}

std::string BrokerProcess::bootstrap() const { return options_.host + ":" + std::to_string(port_); }

std::string BrokerProcess::metrics_url() const {
  return "http://" + options_.host + ":" + std::to_string(http_port_) + "/metrics";
}

std::string BrokerProcess::partition_dir(const std::string& topic, int partition) const {
  return log_dir_ + "/" + topic + "-" + std::to_string(partition);
}

std::string BrokerProcess::stderr_tail(std::size_t lines) const { return TailOfFile(stderr_path_, lines); }

bool BrokerProcess::start(std::chrono::milliseconds timeout) {
  if (dir_.empty() || port_ == 0) {
    ADD_FAILURE() << "broker harness: no temp dir or no free port";
    return false;
  }
  if (pid_ > 0 && alive()) {
    ADD_FAILURE() << "broker already running (pid " << pid_ << ")";
    return false;
  }
  const std::string binary = RunnelBinaryPath();
  const std::string listener = "PLAINTEXT://" + options_.host + ":" + std::to_string(port_);
  // Never the default metrics port 9644: brokers of parallel tests would collide.
  std::vector<std::string> args = {binary, "serve", "--set", "listeners=" + listener, "--set", "log.dirs=" + log_dir_,
                                   "--set", "http.listeners=http://" + options_.host + ":" + std::to_string(http_port_)};
  for (const auto& kv : overrides_) {
    args.push_back("--set");
    args.push_back(kv);
  }
  args.insert(args.end(), serve_args_.begin(), serve_args_.end());
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // The environment is built before fork: the child of a threaded process may
  // only call async-signal-safe functions until it execs.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    const bool replaced = std::any_of(options_.environment.begin(), options_.environment.end(),
                                      [&](const std::string& o) { return o.substr(0, o.find('=')) == name; });
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), options_.environment.begin(), options_.environment.end());
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  {
    std::ofstream banner(stderr_path_, std::ios::app);
    banner << "=== harness: starting";
    for (const auto& a : args) banner << ' ' << a;
    banner << "\n";
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return false;
  }
  if (pid == 0) {
    int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (null_in < 0 || err < 0) ::_exit(126);
    ::dup2(null_in, 0);
    ::dup2(err, 1);
    ::dup2(err, 2);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  pid_ = pid;
  last_exit_status_ = -1;
  std::string why;
  if (!wait_until_accepting(timeout, &why)) {
    ADD_FAILURE() << "broker did not come up on " << bootstrap() << ": " << why << "\n--- broker stderr tail ("
                  << stderr_path_ << ") ---\n"
                  << stderr_tail();
    if (alive()) kill9();
    return false;
  }
  return true;
}

bool BrokerProcess::wait_until_accepting(std::chrono::milliseconds timeout, std::string* why) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!alive()) {
      *why = "process exited with status " + std::to_string(last_exit_status_);
      return false;
    }
    if (PortAccepts(options_.host, port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *why = "port not accepting within " + std::to_string(timeout.count()) + " ms";
  return false;
}

bool BrokerProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) last_exit_status_ = DecodeStatus(status);
  pid_ = -1;
  return false;
}

int BrokerProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0 || !alive()) return last_exit_status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!alive()) return last_exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  last_exit_status_ = -1;
  return -1;
}

void BrokerProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  last_exit_status_ = DecodeStatus(status);
  pid_ = -1;
}

bool BrokerProcess::restart() {
  if (pid_ > 0 && alive()) {
    int status = stop();
    if (status != 0) {
      ADD_FAILURE() << "broker exited with status " << status << " on SIGTERM during restart\n"
                    << stderr_tail();
    }
  }
  return start();
}

long BrokerProcess::rss_kib() const {
  if (pid_ <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

double BrokerProcess::cpu_seconds() const {
  if (pid_ <= 0) return -1;
  std::string stat = ReadWholeFile("/proc/" + std::to_string(pid_) + "/stat");
  // The command name (field 2) may contain spaces; fields after it start past ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  // After ')' come fields 3.. ; utime is field 14, stime field 15.
  long long utime = -1, stime = -1;
  for (int index = 3; index <= 15 && rest >> field; ++index) {
    if (index == 14) utime = std::stoll(field);
    if (index == 15) stime = std::stoll(field);
  }
  if (utime < 0 || stime < 0) return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace runnel::it

// BrokerProcess: runs a real `runnel serve` on a free loopback port with a
// fresh data directory, for one test (or one test suite).
//
// Layout of the temp dir (kept on failure, removed otherwise):
//   <dir>/logs          log.dirs of the broker
//   <dir>/broker.stderr the broker's stdout+stderr (appended across restarts)
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace runnel::it {

// Path of the runnel binary: $RUNNEL_BINARY if set, else the build-time path.
std::string RunnelBinaryPath();

struct BrokerProcessOptions {
  std::string host = "127.0.0.1";        // the listener's address (e.g. 127.0.0.11 in a test namespace)
  std::uint16_t port = 0;                // 0: a free port on `host`
  std::vector<std::string> environment;  // extra NAME=VALUE for the process
  std::string name = "broker";           // in log lines and the stderr file name
};

class BrokerProcess {
 public:
  // `overrides` are "key=value" strings passed as `--set key=value`; they may
  // override the defaults this harness passes (listeners, log.dirs).
  explicit BrokerProcess(std::vector<std::string> overrides = {});
  BrokerProcess(std::vector<std::string> overrides, BrokerProcessOptions options);
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Extra `runnel serve` arguments for the next start() (e.g. {"--log-format", "json"}).
  void set_serve_args(std::vector<std::string> args) { serve_args_ = std::move(args); }

  // Starts the broker and waits (bounded) until the port accepts connections.
  // Reports a gtest failure (with the stderr tail) and returns false on error.
  [[nodiscard]] bool start(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // SIGTERM and wait. Returns the exit status (128+signal if killed by a
  // signal), or -1 if it did not exit within `timeout` (then it is SIGKILLed).
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // SIGKILL and reap: simulates a crash.
  void kill9();

  // stop() if running (expecting exit status 0), then start() again on the
  // same port with the same data dir.
  [[nodiscard]] bool restart();

  // True while the child process has not exited (reaps it if it has, and
  // remembers its exit status).
  bool alive();
  // Exit status of the last exited process (see stop()); -1 if none yet.
  int last_exit_status() const { return last_exit_status_; }

  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  std::string bootstrap() const;  // "HOST:PORT"
  const std::string& host() const { return options_.host; }
  // Replaces `--set` overrides for the next start() (e.g. to change a setting across a restart).
  void set_overrides(std::vector<std::string> overrides) { overrides_ = std::move(overrides); }
  const std::vector<std::string>& overrides() const { return overrides_; }
  // The metrics endpoint (http.listeners), also on a free loopback port.
  std::uint16_t http_port() const { return http_port_; }
  std::string metrics_url() const;  // "http://127.0.0.1:PORT/metrics"
  const std::string& dir() const { return dir_; }
  const std::string& log_dir() const { return log_dir_; }
  std::string partition_dir(const std::string& topic, int partition) const;
  const std::string& stderr_path() const { return stderr_path_; }
  std::string stderr_tail(std::size_t lines = 80) const;

  // Resident set size of the broker in KiB (from /proc), -1 if unknown.
  long rss_kib() const;
  // utime+stime of the broker in seconds (from /proc/PID/stat), -1 if unknown.
  double cpu_seconds() const;

 private:
  bool wait_until_accepting(std::chrono::milliseconds timeout, std::string* why);

  std::vector<std::string> overrides_;
  BrokerProcessOptions options_;
  std::vector<std::string> serve_args_;
  std::string dir_;
  std::string log_dir_;
  std::string stderr_path_;
  std::uint16_t port_ = 0;
  std::uint16_t http_port_ = 0;
  pid_t pid_ = -1;
  int last_exit_status_ = -1;
};

// Binds 127.0.0.1:0 (or host:0) and returns the port the kernel chose (then closes it).
std::uint16_t PickFreeLoopbackPort();
std::uint16_t PickFreePort(const std::string& host);

// True if a TCP connection to 127.0.0.1:port (or host:port) succeeds right now.
bool LoopbackPortAccepts(std::uint16_t port);
bool PortAccepts(const std::string& host, std::uint16_t port);

}  // namespace runnel::it

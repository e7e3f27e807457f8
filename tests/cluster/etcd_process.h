// EtcdProcess: a real single-member etcd (Debian's `etcd`, 3.4) for tests, on
// free loopback ports with a fresh data directory.
//
// Layout of the temp dir (kept when the owning test failed, removed otherwise):
//   <dir>/data      etcd's --data-dir (kept across restart())
//   <dir>/etcd.log  etcd's stdout+stderr, appended across restarts
//
// Lease TTLs: etcd raises any TTL below 1.5 x election timeout, rounded up to
// whole seconds: 2 s with etcd's defaults (heartbeat 100 ms, election 1000 ms).
// The harness defaults to heartbeat 50 / election 500, which allows 1 s leases;
// a single member elects itself, so short timeouts do not make it flap.
//
// The child gets PR_SET_PDEATHSIG=SIGKILL, so etcd dies with the thread that
// started it (a crashed test binary leaves nothing behind); start it from the
// test's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace runnel::it {

class EtcdProcess {
 public:
  struct Options {
    std::string host = "127.0.0.1";  // any loopback address, e.g. 127.0.0.10
    uint16_t client_port = 0;        // 0: a free port
    int heartbeat_ms = 50;
    int election_ms = 500;
    std::chrono::milliseconds start_timeout{30000};
  };

  EtcdProcess();
  explicit EtcdProcess(Options options);
  ~EtcdProcess();  // stops etcd (by pid) and reaps it
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  // Starts etcd and waits (bounded) until /health answers. Throws
  // std::runtime_error with the log tail on failure. Free ports are picked
  // again (up to 3 tries) if another process took one meanwhile.
  void start();
  // SIGCONT (if paused), SIGTERM, SIGKILL after `grace`; reaped.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  void kill9();
  void pause();   // SIGSTOP: etcd stops answering, connections stay open
  void resume();  // SIGCONT
  // stop() if running, then start() on the same data dir and ports.
  void restart();
  // While stopped: the client port of the next start() (0: a free one). Lets a
  // test change etcd's data behind a client's back, then come back on the old port.
  void set_client_port(uint16_t port);
  bool running();

  std::string endpoint() const;  // "host:client_port"
  const std::string& host() const { return options_.host; }
  uint16_t client_port() const { return client_port_; }
  uint16_t peer_port() const { return peer_port_; }
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string log_path() const { return dir_ + "/etcd.log"; }
  std::string log_tail(size_t lines = 40) const;
  pid_t pid() const { return pid_; }

  // Runs `etcdctl --endpoints=<endpoint()> args...` (API v3), bounded by
  // `timeout`. Returns its stdout+stderr; throws std::runtime_error if it fails.
  std::string etcdctl(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

 private:
  bool spawn_and_wait(std::string& why);
  bool healthy() const;

  Options options_;
  std::string dir_;
  uint16_t client_port_ = 0;
  uint16_t peer_port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace runnel::it

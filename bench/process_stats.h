// CPU time and memory of another process (the broker under test), read from
// /proc/<pid>/stat (utime + stime) and /proc/<pid>/status (VmHWM, VmRSS).
#pragma once

#include <cstdint>
#include <optional>
#include <sys/types.h>

namespace runnel::bench {

struct ProcessSample {
  double user_seconds = 0;    // utime since the process started: its own code
  double system_seconds = 0;  // stime: the kernel working for it (syscalls, page faults)
  uint64_t peak_rss_kb = 0;  // VmHWM
  uint64_t rss_kb = 0;       // VmRSS
  double cpu_seconds() const { return user_seconds + system_seconds; }
};

// nullopt when the process does not exist (or pid <= 0).
std::optional<ProcessSample> sample_process(pid_t pid);

}  // namespace runnel::bench

#include "process_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace runnel::bench {

std::optional<ProcessSample> sample_process(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  const std::string base = "/proc/" + std::to_string(pid);
  std::ifstream stat(base + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name (field 2) may contain spaces; fields resume after ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ')': state(3) ppid(4) ... utime is field 14, stime 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  ProcessSample sample;
  const auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  sample.user_seconds = static_cast<double>(utime) / ticks;
  sample.system_seconds = static_cast<double>(stime) / ticks;
  std::ifstream status(base + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) sample.peak_rss_kb = std::stoull(line.substr(6));
    if (line.rfind("VmRSS:", 0) == 0) sample.rss_kb = std::stoull(line.substr(6));
  }
  return sample;
}

}  // namespace runnel::bench

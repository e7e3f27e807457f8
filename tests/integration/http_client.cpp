#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <vector>

namespace runnel::it {
namespace {

// Every comma-separated item of `filter` occurs in the label set `labels`.
bool LabelsMatch(const std::string& labels, const std::string& filter) {
  std::stringstream items(filter);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (!item.empty() && labels.find(item) == std::string::npos) return false;
  }
  return true;
}

template <typename Visit>
void ForEachSample(const MetricSamples& samples, const std::string& name, const std::string& filter, Visit visit) {
  for (const auto& [series, value] : samples) {
    const auto brace = series.find('{');
    const std::string family = series.substr(0, brace);
    if (family != name) continue;
    const std::string labels = brace == std::string::npos ? "" : series.substr(brace);
    if (LabelsMatch(labels, filter)) visit(value);
  }
}

}  // namespace

HttpReply HttpExchange(std::uint16_t port, const std::string& raw, std::chrono::milliseconds timeout) {
  HttpReply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string data;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  const auto end = data.find("\r\n\r\n");
  if (data.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return reply;
  reply.headers = data.substr(0, end);
  reply.body = data.substr(end + 4);
  reply.status = std::atoi(data.c_str() + data.find(' ') + 1);
  return reply;
}

HttpReply HttpGet(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  return HttpExchange(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: runnel-test\r\n\r\n", timeout);
}

MetricSamples ParseMetrics(const std::string& text) {
  MetricSamples samples;
  std::stringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string value = line.substr(space + 1);
    samples[line.substr(0, space)] = value == "+Inf" ? 1e308 : std::strtod(value.c_str(), nullptr);
  }
  return samples;
}

double SumMetric(const MetricSamples& samples, const std::string& name, const std::string& label_filter) {
  double sum = 0;
  ForEachSample(samples, name, label_filter, [&](double v) { sum += v; });
  return sum;
}

int CountMetric(const MetricSamples& samples, const std::string& name, const std::string& label_filter) {
  int count = 0;
  ForEachSample(samples, name, label_filter, [&](double) { ++count; });
  return count;
}

}  // namespace runnel::it

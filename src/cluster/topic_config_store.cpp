#include "cluster/topic_config_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace runnel::cluster {
namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '%' || c == '\t' || c == '\n' || c == '\r' || c < 0x20) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool unescape(const std::string& text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const std::string hex = text.substr(i + 1, 2);
    char* end = nullptr;
    const long value = std::strtol(hex.c_str(), &end, 16);
    if (hex.size() != 2 || end != hex.c_str() + 2) return false;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return true;
}

std::error_code errno_code() { return {errno, std::generic_category()}; }

std::error_code fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return errno_code();
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? std::error_code() : errno_code();
}

}  // namespace

std::string TopicConfigStore::format(const std::map<std::string, ConfigMap>& topics) {
  std::string out = "# runnel topic config overrides v1\n";
  for (const auto& [topic, configs] : topics) {
    for (const auto& [key, value] : configs) out += escape(topic) + '\t' + escape(key) + '\t' + escape(value) + '\n';
  }
  return out;
}

bool TopicConfigStore::parse(const std::string& text, std::map<std::string, ConfigMap>& topics) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto first = line.find('\t');
    const auto second = first == std::string::npos ? first : line.find('\t', first + 1);
    if (second == std::string::npos) return false;
    std::string topic, key, value;
    if (!unescape(line.substr(0, first), topic) || !unescape(line.substr(first + 1, second - first - 1), key) ||
        !unescape(line.substr(second + 1), value)) {
      return false;
    }
    topics[topic][key] = value;
  }
  return true;
}

std::error_code TopicConfigStore::open(const std::string& dir) {
  path_ = dir + "/" + kFileName;
  topics_.clear();
  std::ifstream in(path_);
  if (!in) return {};
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::map<std::string, ConfigMap> loaded;
  if (!parse(buffer.str(), loaded)) return std::make_error_code(std::errc::illegal_byte_sequence);
  topics_ = std::move(loaded);
  return {};
}

const ConfigMap& TopicConfigStore::overrides(const std::string& topic) const {
  static const ConfigMap kEmpty;
  const auto it = topics_.find(topic);
  return it == topics_.end() ? kEmpty : it->second;
}

std::error_code TopicConfigStore::set(const std::string& topic, ConfigMap overrides) {
  auto previous = topics_;
  if (overrides.empty()) {
    topics_.erase(topic);
  } else {
    topics_[topic] = std::move(overrides);
  }
  const auto ec = save();
  if (ec) topics_ = std::move(previous);
  return ec;
}

std::error_code TopicConfigStore::erase(const std::string& topic) {
  if (!topics_.contains(topic)) return {};
  return set(topic, {});
}

std::error_code TopicConfigStore::save() const {
  const std::string temp = path_ + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << format(topics_);
    out.flush();
    if (!out) return errno_code();
  }
  if (auto ec = fsync_path(temp, O_RDONLY)) return ec;
  if (::rename(temp.c_str(), path_.c_str()) != 0) return errno_code();
  const auto slash = path_.find_last_of('/');
  return fsync_path(slash == std::string::npos ? "." : path_.substr(0, slash), O_RDONLY | O_DIRECTORY);
}

}  // namespace runnel::cluster

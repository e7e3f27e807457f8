#include "kcat.h"

namespace runnel::it {

ProcessResult KcatProduce(const std::string& bootstrap, const std::string& topic, const std::string& input_path,
                          const std::string& key_delimiter, const std::vector<std::string>& headers,
                          const std::vector<std::string>& extra_args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {kKcatPath, "-P", "-b", bootstrap, "-t", topic, "-K", key_delimiter,
                                   "-X", "acks=all", "-X", "linger.ms=5", "-m", "30"};
  for (const auto& h : headers) {
    argv.push_back("-H");
    argv.push_back(h);
  }
  for (const auto& a : extra_args) argv.push_back(a);
  ProcessOptions options;
  options.stdin_path = input_path;
  options.timeout = timeout;
  return RunProcess(argv, options);
}

ProcessResult KcatConsumePartition(const std::string& bootstrap, const std::string& topic, int partition,
                                   const std::string& format, const std::string& output_path,
                                   std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {kKcatPath, "-C", "-b", bootstrap, "-t", topic, "-p", std::to_string(partition),
                                   "-o", "beginning", "-e", "-f", format, "-m", "30",
                                   "-X", "enable.auto.commit=false"};
  ProcessOptions options;
  options.stdout_path = output_path;
  options.timeout = timeout;
  return RunProcess(argv, options);
}

ProcessResult KcatMetadata(const std::string& bootstrap, const std::string& topic,
                           std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {kKcatPath, "-L", "-J", "-b", bootstrap, "-m", "10"};
  if (!topic.empty()) {
    argv.push_back("-t");
    argv.push_back(topic);
  }
  ProcessOptions options;
  options.timeout = timeout;
  return RunProcess(argv, options);
}

}  // namespace runnel::it

// Drives /usr/bin/kcat as a child process with a bounded run time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "subprocess.h"

namespace runnel::it {

inline constexpr const char* kKcatPath = "/usr/bin/kcat";

// kcat -P: one record per line of `input_path`, key and value split at the
// first `key_delimiter`; `headers` ("name=value") are attached to every record.
ProcessResult KcatProduce(const std::string& bootstrap, const std::string& topic, const std::string& input_path,
                          const std::string& key_delimiter, const std::vector<std::string>& headers,
                          const std::vector<std::string>& extra_args = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(180));

// kcat -C -p N -o beginning -e -f FORMAT, output written to `output_path`.
ProcessResult KcatConsumePartition(const std::string& bootstrap, const std::string& topic, int partition,
                                   const std::string& format, const std::string& output_path,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(180));

// kcat -L -J (metadata as JSON) for a topic, or all topics if topic is empty.
ProcessResult KcatMetadata(const std::string& bootstrap, const std::string& topic,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace runnel::it

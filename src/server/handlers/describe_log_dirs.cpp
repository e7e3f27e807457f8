// DescribeLogDirs: each log dir with the size of every partition it holds.
#include <sys/statvfs.h>

#include "protocol/messages/describe_log_dirs.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_describe_log_dirs(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DescribeLogDirsRequest>();
  protocol::DescribeLogDirsResponse response;
  // Which (topic, partition) pairs were asked for; null means all.
  auto wanted = [&](const std::string& topic, int32_t partition) {
    if (!request.topics) return true;
    for (const auto& t : *request.topics) {
      if (t.topic != topic) continue;
      for (int32_t p : t.partitions) {
        if (p == partition) return true;
      }
    }
    return false;
  };
  for (const auto& dir : broker.topics.logs().log_dirs()) {
    auto& out = response.results.emplace_back();
    out.log_dir = dir;
    struct statvfs stats {};
    if (::statvfs(dir.c_str(), &stats) == 0) {
      out.total_bytes = static_cast<int64_t>(stats.f_blocks) * static_cast<int64_t>(stats.f_frsize);
      out.usable_bytes = static_cast<int64_t>(stats.f_bavail) * static_cast<int64_t>(stats.f_frsize);
    } else {
      out.error_code = to_wire(ErrorCode::kKafkaStorageError);
      continue;
    }
    for (const auto& topic : broker.topics.all()) {
      protocol::DescribeLogDirsResponse::DescribeLogDirsTopic topic_out;
      topic_out.name = topic.name;
      for (int32_t p = 0; p < topic.partitions; ++p) {
        if (!wanted(topic.name, p) || broker.topics.logs().log_dir_of(topic.name, p) != dir) continue;
        const auto log = broker.topics.log(topic.name, p);
        if (!log) continue;
        auto& partition = topic_out.partitions.emplace_back();
        partition.partition_index = p;
        partition.partition_size = log->size_bytes();
        partition.offset_lag = 0;
        partition.is_future_key = false;
      }
      if (!topic_out.partitions.empty()) out.topics.push_back(std::move(topic_out));
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server

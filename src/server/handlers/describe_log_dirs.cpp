// DescribeLogDirs: each log dir with the size of every partition it holds.
#include <sys/statvfs.h>

#include <map>

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
  const auto hosted = broker.logs.partitions();
  for (const auto& dir : broker.logs.log_dirs()) {
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
    // Every replica hosted here, grouped by topic (a follower's lag is its
    // distance to the leader's high watermark as it last heard it: 0 here).
    std::map<std::string, protocol::DescribeLogDirsResponse::DescribeLogDirsTopic> by_topic;
    for (const auto& hosted_partition : hosted) {
      const auto& topic = hosted_partition.topic;
      const int32_t p = hosted_partition.partition;
      if (!wanted(topic, p) || broker.logs.log_dir_of(topic, p) != dir) continue;
      const auto log = broker.logs.get(topic, p);
      if (!log) continue;
      auto& topic_out = by_topic[topic];
      topic_out.name = topic;
      auto& partition = topic_out.partitions.emplace_back();
      partition.partition_index = p;
      partition.partition_size = log->size_bytes();
      partition.offset_lag = std::max<int64_t>(0, log->log_end_offset() - log->high_watermark());
      partition.is_future_key = false;
    }
    for (auto& [name, topic_out] : by_topic) out.topics.push_back(std::move(topic_out));
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server

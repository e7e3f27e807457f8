#include "server/metrics_page.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "metrics/exposition.h"
#include "server/broker_metrics.h"

namespace runnel::server {
namespace {

struct PartitionState {
  std::string topic;
  std::string partition;  // as a label value
  std::shared_ptr<storage::Log> log;
};

std::vector<PartitionState> all_partitions(BrokerContext& broker) {
  std::vector<PartitionState> partitions;
  auto topics = broker.topics.all();
  std::sort(topics.begin(), topics.end(), [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
  for (const auto& topic : topics) {
    for (int32_t p = 0; p < topic.partitions; ++p) {
      if (auto log = broker.topics.log(topic.name, p)) partitions.push_back({topic.name, std::to_string(p), std::move(log)});
    }
  }
  return partitions;
}

void render_partitions(metrics::Exposition& out, const std::vector<PartitionState>& partitions) {
  std::map<std::string, int64_t> per_topic;
  for (const auto& p : partitions) ++per_topic[p.topic];
  out.family("runnel_partitions", "gauge", "Partitions hosted by this broker (all topics, internal ones included).");
  out.sample("runnel_partitions", {}, static_cast<int64_t>(partitions.size()));
  out.family("runnel_topic_partitions", "gauge", "Partitions of each topic.");
  for (const auto& [topic, count] : per_topic) out.sample("runnel_topic_partitions", {{"topic", topic}}, count);
  out.family("runnel_under_replicated_partitions", "gauge",
             "Partitions with fewer in-sync replicas than replicas (always 0 on a single node).");
  out.sample("runnel_under_replicated_partitions", {}, int64_t{0});

  struct Family {
    const char* name;
    const char* help;
    int64_t (*read)(const storage::Log&);
  };
  static constexpr Family kFamilies[] = {
      {"runnel_log_size_bytes", "Bytes of all segments of the partition's log.",
       [](const storage::Log& log) { return log.size_bytes(); }},
      {"runnel_log_start_offset", "First offset still in the partition's log.",
       [](const storage::Log& log) { return log.log_start_offset(); }},
      {"runnel_log_end_offset", "Offset the next appended record will get.",
       [](const storage::Log& log) { return log.log_end_offset(); }},
      {"runnel_high_watermark", "Offset up to which records are durable and visible to consumers.",
       [](const storage::Log& log) { return log.high_watermark(); }},
      {"runnel_log_segments", "Segments of the partition's log.",
       [](const storage::Log& log) { return static_cast<int64_t>(log.segment_count()); }},
  };
  for (const auto& family : kFamilies) {
    out.family(family.name, "gauge", family.help);
    for (const auto& p : partitions) {
      out.sample(family.name, {{"topic", p.topic}, {"partition", p.partition}}, family.read(*p.log));
    }
  }
}

// Lag = high watermark - committed offset, for every committed offset of every
// group (what a consumer could read but has not yet committed).
void render_group_lag(metrics::Exposition& out, BrokerContext& broker) {
  const auto listed = broker.groups.list_groups({});
  std::vector<coordinator::GroupOverview> groups = listed.groups;
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
  out.family("runnel_consumer_groups", "gauge", "Consumer groups known to the coordinator.");
  out.sample("runnel_consumer_groups", {}, static_cast<int64_t>(groups.size()));
  out.family("runnel_consumer_group_members", "gauge", "Members of each consumer group.");
  for (const auto& group : groups) {
    const auto summary = broker.groups.describe_group(group.group_id);
    out.sample("runnel_consumer_group_members", {{"group", group.group_id}, {"state", summary.state}},
               static_cast<int64_t>(summary.members.size()));
  }
  struct Row {
    std::string group, topic, partition;
    int64_t committed, lag;
  };
  std::vector<Row> rows;
  for (const auto& group : groups) {
    const auto fetched = broker.groups.fetch_offsets(group.group_id, std::nullopt, false);
    for (const auto& offset : fetched.offsets) {
      if (offset.offset < 0) continue;
      const auto log = broker.topics.log(offset.partition.topic, offset.partition.partition);
      if (!log) continue;  // the topic was deleted
      rows.push_back({group.group_id, offset.partition.topic, std::to_string(offset.partition.partition), offset.offset,
                      std::max<int64_t>(0, log->high_watermark() - offset.offset)});
    }
  }
  out.family("runnel_consumer_group_committed_offset", "gauge", "Committed offset of a group on a partition.");
  for (const auto& r : rows) {
    out.sample("runnel_consumer_group_committed_offset", {{"group", r.group}, {"topic", r.topic}, {"partition", r.partition}},
               r.committed);
  }
  out.family("runnel_consumer_group_lag", "gauge",
             "High watermark minus the group's committed offset: records the group has yet to consume and commit.");
  for (const auto& r : rows) {
    out.sample("runnel_consumer_group_lag", {{"group", r.group}, {"topic", r.topic}, {"partition", r.partition}}, r.lag);
  }
}

}  // namespace

std::string render_metrics_page(BrokerContext& broker) {
  metrics::Exposition out;
  broker.metrics.render(out);
  render_partitions(out, all_partitions(broker));
  render_group_lag(out, broker);
  out.family("runnel_fsync_duration_seconds", "histogram",
             "Duration of one group-commit flush of a partition (fsync of segment, indexes and directory).");
  out.histogram("runnel_fsync_duration_seconds", {}, broker.flusher.flush_latency().snapshot());
  return out.take();
}

HttpResponse handle_http_request(BrokerContext& broker, const HttpRequest& request) {
  const bool readable = request.method == "GET" || request.method == "HEAD";
  if (request.path == "/metrics") {
    if (!readable) return HttpResponse{405, "text/plain; charset=utf-8", "use GET\n", "GET, HEAD"};
    return HttpResponse{200, std::string(metrics::Exposition::kContentType), render_metrics_page(broker), {}};
  }
  if (request.path == "/") {
    if (!readable) return HttpResponse{405, "text/plain; charset=utf-8", "use GET\n", "GET, HEAD"};
    return HttpResponse{200, "text/plain; charset=utf-8",
                        std::string("Runnel ") + RUNNEL_VERSION + ": Prometheus metrics at /metrics\n", {}};
  }
  return HttpResponse{404, "text/plain; charset=utf-8", "not found; metrics are at /metrics\n", {}};
}

}  // namespace runnel::server

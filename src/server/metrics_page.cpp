#include "server/metrics_page.h"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "metrics/exposition.h"
#include "server/broker_metrics.h"

namespace runnel::server {
namespace {

struct HostedPartition {
  std::string topic;
  std::string partition;  // as a label value
  std::shared_ptr<replication::Partition> replica;
};

std::vector<HostedPartition> all_partitions(BrokerContext& broker) {
  std::vector<HostedPartition> partitions;
  for (auto& replica : broker.cluster.replicas().partitions())
    partitions.push_back({replica->topic(), std::to_string(replica->index()), replica});
  std::sort(partitions.begin(), partitions.end(), [](const auto& a, const auto& b) {
    return a.topic != b.topic ? a.topic < b.topic : a.replica->index() < b.replica->index();
  });
  return partitions;
}

void render_partitions(metrics::Exposition& out, const std::vector<HostedPartition>& partitions) {
  std::map<std::string, int64_t> per_topic;
  int64_t under_replicated = 0;
  int64_t led = 0;
  for (const auto& p : partitions) {
    ++per_topic[p.topic];
    if (p.replica->under_replicated()) ++under_replicated;
    if (p.replica->is_leader()) ++led;
  }
  out.family("runnel_partitions", "gauge", "Partition replicas hosted by this broker (all topics, internal ones included).");
  out.sample("runnel_partitions", {}, static_cast<int64_t>(partitions.size()));
  out.family("runnel_partitions_led", "gauge", "Partitions this broker leads.");
  out.sample("runnel_partitions_led", {}, led);
  out.family("runnel_topic_partitions", "gauge", "Replicas of each topic hosted by this broker.");
  for (const auto& [topic, count] : per_topic) out.sample("runnel_topic_partitions", {{"topic", topic}}, count);
  out.family("runnel_under_replicated_partitions", "gauge",
             "Partitions led here whose ISR is smaller than their replica set.");
  out.sample("runnel_under_replicated_partitions", {}, under_replicated);

  struct Family {
    const char* name;
    const char* help;
    int64_t (*read)(const replication::Partition&);
  };
  static constexpr Family kFamilies[] = {
      {"runnel_log_size_bytes", "Bytes of all segments of the partition's log.",
       [](const replication::Partition& p) { return p.log()->size_bytes(); }},
      {"runnel_log_start_offset", "First offset still in the partition's log.",
       [](const replication::Partition& p) { return p.log_start_offset(); }},
      {"runnel_log_end_offset", "Offset the next appended record will get.",
       [](const replication::Partition& p) { return p.log_end_offset(); }},
      {"runnel_high_watermark", "Offset up to which records are held by every in-sync replica and visible to consumers.",
       [](const replication::Partition& p) { return p.high_watermark(); }},
      {"runnel_log_segments", "Segments of the partition's log.",
       [](const replication::Partition& p) { return static_cast<int64_t>(p.log()->segment_count()); }},
      {"runnel_partition_leader", "1 if this broker leads the partition, else 0.",
       [](const replication::Partition& p) { return int64_t{p.is_leader() ? 1 : 0}; }},
      {"runnel_partition_isr_size", "In-sync replicas of the partition (as its state says).",
       [](const replication::Partition& p) { return static_cast<int64_t>(p.isr().size()); }},
  };
  for (const auto& family : kFamilies) {
    out.family(family.name, "gauge", family.help);
    for (const auto& p : partitions) {
      out.sample(family.name, {{"topic", p.topic}, {"partition", p.partition}}, family.read(*p.replica));
    }
  }
  // Per follower of each partition led here: how far behind it is.
  out.family("runnel_replica_lag_records", "gauge",
             "Records a follower lacks (the leader's log end minus the follower's), per partition led here.");
  for (const auto& p : partitions) {
    if (!p.replica->is_leader()) continue;
    for (const auto& [id, f] : p.replica->followers()) {
      const int64_t lag = f.log_end_offset < 0 ? p.replica->log_end_offset() : p.replica->log_end_offset() - f.log_end_offset;
      out.sample("runnel_replica_lag_records", {{"topic", p.topic}, {"partition", p.partition}, {"replica", std::to_string(id)}},
                 std::max<int64_t>(0, lag));
    }
  }
  // The same in bytes: the leader's log from the follower's end to its own.
  out.family("runnel_replica_lag_bytes", "gauge",
             "Bytes a follower lacks (the leader's log from the follower's end on), per partition led here.");
  for (const auto& p : partitions) {
    if (!p.replica->is_leader()) continue;
    const auto& log = p.replica->log();
    for (const auto& [id, f] : p.replica->followers()) {
      const int64_t end = log->log_end_offset();
      const int64_t from = std::max(f.log_end_offset, log->log_start_offset());
      int64_t bytes = 0;
      if (f.log_end_offset < 0) {
        bytes = log->size_bytes();
      } else if (from < end) {
        bytes = log->read_slices(from, std::numeric_limits<int32_t>::max(), end, false).bytes;
      }
      out.sample("runnel_replica_lag_bytes", {{"topic", p.topic}, {"partition", p.partition}, {"replica", std::to_string(id)}},
                 bytes);
    }
  }
}

void render_cluster(metrics::Exposition& out, BrokerContext& broker, const std::vector<HostedPartition>& partitions) {
  auto& cluster = broker.cluster;
  const auto image = cluster.image();
  int64_t offline = 0;
  for (const auto* topic : image->existing_topics()) {
    for (int32_t p = 0; p < topic->partition_count(); ++p) {
      const auto* entry = topic->partition(p);
      if (!entry || entry->state.leader < 0 || !image->alive(entry->state.leader)) ++offline;
    }
  }
  out.family("runnel_cluster_brokers_alive", "gauge", "Brokers registered in the cluster (their sessions hold).");
  out.sample("runnel_cluster_brokers_alive", {}, static_cast<int64_t>(image->brokers.size()));
  out.family("runnel_cluster_is_controller", "gauge", "1 if this broker is the controller.");
  out.sample("runnel_cluster_is_controller", {}, int64_t{cluster.controller().active() ? 1 : 0});
  out.family("runnel_cluster_controller_id", "gauge", "The controller's broker id as this broker sees it (-1: none).");
  out.sample("runnel_cluster_controller_id", {}, int64_t{image->controller_id()});
  out.family("runnel_cluster_offline_partitions", "gauge", "Partitions of the cluster without a live leader.");
  out.sample("runnel_cluster_offline_partitions", {}, offline);
  out.family("runnel_metadata_revision", "gauge", "Metadata store revision of this broker's image.");
  out.sample("runnel_metadata_revision", {}, image->revision);
  out.family("runnel_metadata_watch_lag_revisions", "gauge",
             "How far this broker's metadata image trails the newest store revision it heard of.");
  out.sample("runnel_metadata_watch_lag_revisions", {}, cluster.view().lag_revisions());
  const auto health = cluster.store().health();
  out.family("runnel_metadata_store_reachable", "gauge", "1 while the metadata store answers, 0 during an outage.");
  out.sample("runnel_metadata_store_reachable", {}, int64_t{health.reachable ? 1 : 0});
  out.family("runnel_metadata_sessions_lost_total", "counter", "Times this broker's metadata-store session was lost.");
  out.sample("runnel_metadata_sessions_lost_total", {}, static_cast<int64_t>(cluster.membership().sessions_lost()));
  out.family("runnel_leader_elections_total", "counter", "Leader elections this broker decided as controller.");
  out.sample("runnel_leader_elections_total", {}, static_cast<int64_t>(cluster.controller().leader_elections()));
  uint64_t shrinks = 0;
  uint64_t expands = 0;
  for (const auto& p : partitions) {
    shrinks += p.replica->isr_shrinks();
    expands += p.replica->isr_expands();
  }
  out.family("runnel_isr_shrinks_total", "counter", "ISR shrinks of partitions led here.");
  out.sample("runnel_isr_shrinks_total", {}, static_cast<int64_t>(shrinks));
  out.family("runnel_isr_expands_total", "counter", "ISR expansions of partitions led here.");
  out.sample("runnel_isr_expands_total", {}, static_cast<int64_t>(expands));
  const auto& replication = cluster.replicas().metrics();
  out.family("runnel_replica_fetch_requests_total", "counter", "Fetch requests this broker sent as a follower.");
  out.sample("runnel_replica_fetch_requests_total", {}, static_cast<int64_t>(replication.fetch_requests));
  out.family("runnel_replica_fetch_errors_total", "counter", "Failed follower fetches (connection or partition errors).");
  out.sample("runnel_replica_fetch_errors_total", {}, static_cast<int64_t>(replication.fetch_errors));
  out.family("runnel_replica_fetched_bytes_total", "counter", "Bytes this broker copied from leaders as a follower.");
  out.sample("runnel_replica_fetched_bytes_total", {}, static_cast<int64_t>(replication.fetched_bytes));
  out.family("runnel_replica_truncations_total", "counter", "Follower log truncations to a leader's divergence point.");
  out.sample("runnel_replica_truncations_total", {}, static_cast<int64_t>(replication.truncations));
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
      // The lag is known where the partition's leader is; elsewhere it is left out.
      const auto replica = broker.cluster.replicas().get(offset.partition.topic, offset.partition.partition);
      if (!replica || !replica->is_leader()) continue;
      rows.push_back({group.group_id, offset.partition.topic, std::to_string(offset.partition.partition), offset.offset,
                      std::max<int64_t>(0, replica->high_watermark() - offset.offset)});
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
  const auto partitions = all_partitions(broker);
  render_partitions(out, partitions);
  render_cluster(out, broker, partitions);
  render_group_lag(out, broker);
  out.family("runnel_fsync_duration_seconds", "histogram",
             "Duration of one partition's own flush (fsync of segment, indexes and directory).");
  out.histogram("runnel_fsync_duration_seconds", {}, broker.flusher.flush_latency().snapshot());
  out.family("runnel_journal_commit_duration_seconds", "histogram",
             "Duration of one commit-journal write and fdatasync (one per flush round).");
  out.histogram("runnel_journal_commit_duration_seconds", {}, broker.flusher.journal_latency().snapshot());
  out.family("runnel_journal_checkpoints_total", "counter",
             "Commit-journal checkpoints: the journaled partitions fsynced, the journal started over.");
  out.sample("runnel_journal_checkpoints_total", {}, broker.flusher.journal_checkpoints());
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

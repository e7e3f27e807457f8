// `runnel cluster info`: brokers, controller, cluster id, topic count.
#include <algorithm>
#include <memory>
#include <optional>

#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/kafka_client.h"
#include "cli/table.h"

namespace runnel::cli {
namespace {

struct ClusterOptions {
  ClientOptions client;
  OutputFormat format = OutputFormat::kTable;
};

void run_info(ClusterOptions& o) {
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  MetadataPtr md = client.metadata();
  // Both come from the Metadata response librdkafka already has (v2+ for the
  // cluster id, v1+ for the controller); no DescribeCluster needed.
  std::optional<std::string> cluster_id;
  if (char* id = rd_kafka_clusterid(client.get(), client.timeout_ms())) {
    cluster_id = id;
    rd_kafka_mem_free(client.get(), id);  // allocated by librdkafka
  }
  const int32_t controller = rd_kafka_controllerid(client.get(), client.timeout_ms());

  std::vector<const rd_kafka_metadata_broker_t*> brokers;
  for (int i = 0; i < md->broker_cnt; ++i) brokers.push_back(&md->brokers[i]);
  std::sort(brokers.begin(), brokers.end(), [](auto* a, auto* b) { return a->id < b->id; });
  int topics = 0, internal = 0, partitions = 0;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (md->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    ++(std::string(md->topics[i].topic).rfind("__", 0) == 0 ? internal : topics);
    partitions += md->topics[i].partition_cnt;
  }

  if (o.format == OutputFormat::kJson) {
    JsonWriter json;
    json.begin_object()
        .field("cluster_id", cluster_id)
        .field("controller_id", controller >= 0 ? std::optional<int32_t>(controller) : std::nullopt)
        .key("brokers")
        .begin_array();
    for (const auto* b : brokers) {
      json.begin_object()
          .field("id", b->id)
          .field("host", b->host)
          .field("port", b->port)
          .field("controller", b->id == controller)
          .end_object();
    }
    json.end_array().field("topics", topics).field("internal_topics", internal).field("partitions", partitions);
    json.end_object().print();
    return;
  }
  Table summary;
  summary.add_row({"CLUSTER-ID", cluster_id.value_or("-")});
  summary.add_row({"CONTROLLER", controller >= 0 ? std::to_string(controller) : "-"});
  summary.add_row({"BROKERS", std::to_string(brokers.size())});
  summary.add_row(
      {"TOPICS", std::to_string(topics) + (internal ? " (+" + std::to_string(internal) + " internal)" : "")});
  summary.add_row({"PARTITIONS", std::to_string(partitions)});
  summary.print();
  Table table({"ID", "HOST", "PORT", "CONTROLLER"});
  for (const auto* b : brokers) {
    table.add_row({std::to_string(b->id), b->host, std::to_string(b->port), b->id == controller ? "*" : ""});
  }
  std::printf("\n");
  table.print();
}

}  // namespace

void add_cluster_commands(CLI::App& app) {
  CLI::App* cluster = app.add_subcommand("cluster", "Inspect the cluster");
  cluster->require_subcommand(1);
  auto o = std::make_shared<ClusterOptions>();
  CLI::App* info = cluster->add_subcommand("info", "Brokers, controller, cluster id and topic count");
  add_client_options(info, o->client);
  add_format_option(info, o->format);
  info->callback([o] { run_command([&] { run_info(*o); }); });
}

}  // namespace runnel::cli

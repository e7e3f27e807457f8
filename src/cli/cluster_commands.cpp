// `runnel cluster info` (brokers with rack and liveness, controller, cluster
// id, topic count) and `runnel cluster drain BROKER` (move every replica off a
// broker before it is retired). Both use the project's own protocol client:
// librdkafka 2.0.2 reports neither racks nor reassignments.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "cli/admin_connection.h"
#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/reassignment.h"
#include "cli/table.h"

namespace runnel::cli {
namespace {

struct ClusterOptions {
  ClientOptions client;
  OutputFormat format = OutputFormat::kTable;
  int32_t broker = -1;          // drain
  std::string wait;             // drain: how long to wait for the moves, "" = do not wait
  bool dry_run = false;         // drain
};

struct BrokerRow {
  int32_t id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
  bool alive = false;
};

void run_info(ClusterOptions& o) {
  AdminConnection admin(o.client);
  const auto md = all_metadata(admin);
  // Registered brokers are alive; a broker that holds replicas but is not
  // registered (its session expired) is listed as not alive.
  std::map<int32_t, BrokerRow> brokers;
  for (const auto& b : md.brokers) brokers[b.node_id] = {b.node_id, b.host, b.port, b.rack, true};
  int topics = 0, internal = 0, partitions = 0, offline = 0, under_replicated = 0;
  for (const auto& t : md.topics) {
    if (t.error_code != 0 || !t.name) continue;
    ++(t.is_internal || t.name->rfind("__", 0) == 0 ? internal : topics);
    partitions += static_cast<int>(t.partitions.size());
    for (const auto& p : t.partitions) {
      if (p.leader_id < 0) ++offline;
      if (p.isr_nodes.size() < p.replica_nodes.size()) ++under_replicated;
      for (int32_t r : p.replica_nodes)
        if (!brokers.count(r)) brokers[r] = {r, "", 0, std::nullopt, false};
    }
  }
  const int32_t controller = md.controller_id;

  if (o.format == OutputFormat::kJson) {
    JsonWriter json;
    json.begin_object()
        .field("cluster_id", md.cluster_id)
        .field("controller_id", controller >= 0 ? std::optional<int32_t>(controller) : std::nullopt)
        .key("brokers")
        .begin_array();
    for (const auto& [id, b] : brokers) {
      json.begin_object()
          .field("id", b.id)
          .field("host", b.alive ? std::optional<std::string>(b.host) : std::nullopt)
          .field("port", b.alive ? std::optional<int32_t>(b.port) : std::nullopt)
          .field("rack", b.rack)
          .field("alive", b.alive)
          .field("controller", b.id == controller)
          .end_object();
    }
    json.end_array()
        .field("topics", topics)
        .field("internal_topics", internal)
        .field("partitions", partitions)
        .field("offline_partitions", offline)
        .field("under_replicated_partitions", under_replicated);
    json.end_object().print();
    return;
  }
  Table summary;
  summary.add_row({"CLUSTER-ID", md.cluster_id.value_or("-")});
  summary.add_row({"CONTROLLER", controller >= 0 ? std::to_string(controller) : "-"});
  summary.add_row({"BROKERS", std::to_string(md.brokers.size()) + " alive" +
                                  (brokers.size() > md.brokers.size()
                                       ? ", " + std::to_string(brokers.size() - md.brokers.size()) + " not alive"
                                       : "")});
  summary.add_row(
      {"TOPICS", std::to_string(topics) + (internal ? " (+" + std::to_string(internal) + " internal)" : "")});
  summary.add_row({"PARTITIONS", std::to_string(partitions) + " (" + std::to_string(offline) + " offline, " +
                                     std::to_string(under_replicated) + " under-replicated)"});
  summary.print();
  Table table({"ID", "HOST", "PORT", "RACK", "ALIVE", "CONTROLLER"});
  for (const auto& [id, b] : brokers) {
    table.add_row({std::to_string(b.id), b.alive ? b.host : "-", b.alive ? std::to_string(b.port) : "-",
                   b.rack.value_or("-"), b.alive ? "yes" : "no", b.id == controller ? "*" : ""});
  }
  std::printf("\n");
  table.print();
}

void run_drain(ClusterOptions& o) {
  std::optional<int64_t> wait_ms;
  if (!o.wait.empty()) {
    wait_ms = parse_duration_ms(o.wait);
    if (!wait_ms) usage_error("invalid --wait '" + o.wait + "' (expected e.g. 30s, 5m)");
  }
  AdminConnection admin(o.client);
  const auto moves = plan_drain(all_metadata(admin), o.broker);
  Table table({"TOPIC", "PARTITION", "NEW-REPLICAS"});
  JsonWriter json;
  json.begin_object().field("broker", o.broker).field("dry_run", o.dry_run).key("moves").begin_array();
  for (const auto& m : moves) {
    table.add_row({m.topic, std::to_string(m.partition), join_ids(*m.replicas)});
    json.begin_object().field("topic", m.topic).field("partition", m.partition).key("replicas").begin_array();
    for (int32_t r : *m.replicas) json.value(r);
    json.end_array().end_object();
  }
  json.end_array();
  std::vector<std::string> errors;
  if (!o.dry_run && !moves.empty()) errors = submit_moves(admin, moves);
  bool done = moves.empty() || o.dry_run;
  if (!o.dry_run && errors.empty() && wait_ms) done = wait_for_moves(admin, moves, std::chrono::milliseconds(*wait_ms));
  json.field("submitted", !o.dry_run && errors.empty()).field("done", done).end_object();
  if (o.format == OutputFormat::kJson) {
    json.print();
  } else if (moves.empty()) {
    std::printf("broker %d holds no replicas\n", o.broker);
  } else {
    table.print();
    std::string status;
    if (o.dry_run) {
      status = "would move (dry run, nothing changed)";
    } else if (!errors.empty()) {
      status = "not all accepted";
    } else if (done && wait_ms) {
      status = "moved off broker " + std::to_string(o.broker);
    } else {
      status = "moving off broker " + std::to_string(o.broker) + " (see `runnel topic reassignments`)";
    }
    std::printf("\n%zu partition(s) %s\n", moves.size(), status.c_str());
  }
  ItemErrors failures;
  for (const auto& e : errors) failures.add(e);
  if (!errors.empty()) failures.finish();
  if (wait_ms && !done && errors.empty())
    fail("the moves did not finish within " + o.wait + "; they go on in the background");
}

}  // namespace

void add_cluster_commands(CLI::App& app) {
  CLI::App* cluster = app.add_subcommand("cluster", "Inspect and operate the cluster");
  cluster->require_subcommand(1);
  auto o = std::make_shared<ClusterOptions>();
  CLI::App* info = cluster->add_subcommand("info", "Brokers (address, rack, alive), controller, cluster id, topics");
  add_client_options(info, o->client);
  add_format_option(info, o->format);
  info->callback([o] { run_command([&] { run_info(*o); }); });

  auto d = std::make_shared<ClusterOptions>();
  CLI::App* drain =
      cluster->add_subcommand("drain", "Move every replica off a broker (before retiring it), by reassignment");
  add_client_options(drain, d->client);
  add_format_option(drain, d->format);
  drain->add_option("broker", d->broker, "Node id of the broker to empty")->required()->check(CLI::NonNegativeNumber);
  drain->add_option("--wait", d->wait, "Wait up to DURATION (e.g. 5m) for the data to be copied and the moves done");
  drain->add_flag("--dry-run", d->dry_run, "Only print the moves");
  drain->callback([d] { run_command([&] { run_drain(*d); }); });
}

}  // namespace runnel::cli

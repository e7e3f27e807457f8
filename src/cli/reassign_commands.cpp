// `runnel topic reassign` (move partitions to other brokers, or cancel a move)
// and `runnel topic reassignments` (moves in progress), on
// AlterPartitionReassignments / ListPartitionReassignments (KIP-455).
#include <memory>

#include "cli/admin_connection.h"
#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/reassignment.h"
#include "cli/table.h"

namespace runnel::cli {
namespace {

struct ReassignOptions {
  ClientOptions client;
  OutputFormat format = OutputFormat::kTable;
  std::string topic;
  std::vector<std::string> moves;  // "P=B,B,B", or "P" with --cancel
  bool cancel = false;
  std::string wait;
  std::vector<std::string> topics;  // reassignments: filter
};

void run_reassign(ReassignOptions& o) {
  std::vector<PartitionMove> moves;
  for (const auto& text : o.moves) {
    if (o.cancel) {
      if (text.find('=') != std::string::npos) usage_error("--cancel takes partition numbers, not '" + text + "'");
      PartitionMove move = parse_move(o.topic, text + "=0");
      move.replicas.reset();
      moves.push_back(move);
    } else {
      moves.push_back(parse_move(o.topic, text));
    }
  }
  std::optional<int64_t> wait_ms;
  if (!o.wait.empty()) {
    wait_ms = parse_duration_ms(o.wait);
    if (!wait_ms) usage_error("invalid --wait '" + o.wait + "' (expected e.g. 30s, 5m)");
  }
  AdminConnection admin(o.client);
  const auto errors = submit_moves(admin, moves);
  bool done = false;
  if (errors.empty() && wait_ms) done = wait_for_moves(admin, moves, std::chrono::milliseconds(*wait_ms));
  if (o.format == OutputFormat::kJson) {
    JsonWriter json;
    json.begin_object().field("topic", o.topic).key("errors").begin_array();
    for (const auto& e : errors) json.value(e);
    json.end_array().field("accepted", errors.empty()).field("done", done).end_object().print();
  } else if (errors.empty()) {
    Table table({"TOPIC", "PARTITION", "TARGET", "STATUS"});
    for (const auto& m : moves) {
      table.add_row({m.topic, std::to_string(m.partition), m.replicas ? join_ids(*m.replicas) : "-",
                     o.cancel ? "cancelled" : done ? "done" : "moving"});
    }
    table.print();
  }
  ItemErrors failures;
  for (const auto& e : errors) failures.add(e);
  failures.finish();
  if (wait_ms && !done) fail("the reassignment did not finish within " + o.wait + "; it goes on in the background");
}

void run_list(ReassignOptions& o) {
  AdminConnection admin(o.client);
  auto listed = moves_in_progress(admin, {});
  if (!o.topics.empty()) {
    std::erase_if(listed, [&](const PartitionMove& m) {
      return std::find(o.topics.begin(), o.topics.end(), m.topic) == o.topics.end();
    });
  }
  if (o.format == OutputFormat::kJson) {
    JsonWriter json;
    json.begin_array();
    for (const auto& m : listed) {
      json.begin_object().field("topic", m.topic).field("partition", m.partition).key("replicas").begin_array();
      for (int32_t r : m.replicas.value_or(std::vector<int32_t>{})) json.value(r);
      json.end_array().end_object();
    }
    json.end_array().print();
    return;
  }
  if (listed.empty()) {
    std::printf("no reassignment in progress\n");
    return;
  }
  Table table({"TOPIC", "PARTITION", "REPLICAS"});
  for (const auto& m : listed) table.add_row({m.topic, std::to_string(m.partition), join_ids(m.replicas.value_or(std::vector<int32_t>{}))});
  table.print();
}

}  // namespace

void add_reassign_commands(CLI::App* topic) {
  auto o = std::make_shared<ReassignOptions>();
  CLI::App* cmd = topic->add_subcommand(
      "reassign", "Move partitions to other brokers: PARTITION=BROKER,BROKER,... (the first is the preferred leader)");
  add_client_options(cmd, o->client);
  add_format_option(cmd, o->format);
  cmd->add_option("topic", o->topic, "Topic name")->required();
  cmd->add_option("moves", o->moves, "PARTITION=BROKER,BROKER,... (with --cancel: PARTITION)")->required();
  cmd->add_flag("--cancel", o->cancel, "Cancel moves in progress: back to the replicas before they started");
  cmd->add_option("--wait", o->wait, "Wait up to DURATION (e.g. 2m) for the data to be copied and the moves done");
  cmd->callback([o] { run_command([&] { run_reassign(*o); }); });

  auto l = std::make_shared<ReassignOptions>();
  cmd = topic->add_subcommand("reassignments", "Partition moves in progress");
  add_client_options(cmd, l->client);
  add_format_option(cmd, l->format);
  cmd->add_option("topics", l->topics, "Only these topics");
  cmd->callback([l] { run_command([&] { run_list(*l); }); });
}

}  // namespace runnel::cli

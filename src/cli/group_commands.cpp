// `runnel group list|describe|reset-offsets|delete` (consumer groups).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/kafka_client.h"
#include "cli/table.h"

namespace runnel::cli {
namespace {

using TopicPartition = std::pair<std::string, int32_t>;

struct GroupOptions {
  ClientOptions client;
  OutputFormat format = OutputFormat::kTable;
  std::vector<std::string> groups;
  // reset-offsets
  std::vector<std::string> topics;  // "T" or "T:0,1"
  bool all_topics = false;
  bool to_earliest = false;
  bool to_latest = false;
  std::string to_datetime;
  std::optional<int64_t> to_offset;
  std::optional<int64_t> shift_by;
  bool dry_run = false;
  bool execute = false;
};

struct Member {
  std::string member_id, client_id, host, instance_id;
  std::vector<TopicPartition> assignment;
};

struct GroupInfo {
  bool exists = true;
  rd_kafka_consumer_group_state_t state = RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN;
  std::string assignor;
  int coordinator_id = -1;
  std::string coordinator_host;
  int coordinator_port = 0;
  std::vector<Member> members;
};

std::string state_name(rd_kafka_consumer_group_state_t state) { return rd_kafka_consumer_group_state_name(state); }

std::string group_error_text(const rd_kafka_error_t* error) {
  return error_text(rd_kafka_error_code(error), rd_kafka_error_string(error));
}

// One group per request: results and errors stay simple to attribute.
GroupInfo describe_group(KafkaClient& client, const std::string& group) {
  const char* names[] = {group.c_str()};
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_DescribeConsumerGroups(client.get(), names, 1, options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "DescribeConsumerGroups");
  size_t count = 0;
  const auto** groups =
      rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(event.get()), &count);
  if (count != 1) fail("DescribeConsumerGroups returned no result for group '" + group + "'");
  const auto* desc = groups[0];
  GroupInfo info;
  if (const rd_kafka_error_t* error = rd_kafka_ConsumerGroupDescription_error(desc)) {
    if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
      info.exists = false;
      return info;
    }
    fail("cannot describe group '" + group + "': " + group_error_text(error));
  }
  info.state = rd_kafka_ConsumerGroupDescription_state(desc);
  // Kafka answers "Dead" with no members for a group it does not know.
  info.exists = info.state != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD;
  if (const char* a = rd_kafka_ConsumerGroupDescription_partition_assignor(desc)) info.assignor = a;
  if (const rd_kafka_Node_t* node = rd_kafka_ConsumerGroupDescription_coordinator(desc)) {
    info.coordinator_id = rd_kafka_Node_id(node);
    if (const char* h = rd_kafka_Node_host(node)) info.coordinator_host = h;
    info.coordinator_port = rd_kafka_Node_port(node);
  }
  const size_t members = rd_kafka_ConsumerGroupDescription_member_count(desc);
  for (size_t i = 0; i < members; ++i) {
    const auto* m = rd_kafka_ConsumerGroupDescription_member(desc, i);
    Member member;
    auto text = [](const char* s) { return s ? std::string(s) : std::string(); };
    member.member_id = text(rd_kafka_MemberDescription_consumer_id(m));
    member.client_id = text(rd_kafka_MemberDescription_client_id(m));
    member.host = text(rd_kafka_MemberDescription_host(m));
    member.instance_id = text(rd_kafka_MemberDescription_group_instance_id(m));
    if (const auto* assignment = rd_kafka_MemberDescription_assignment(m)) {
      if (const auto* parts = rd_kafka_MemberAssignment_partitions(assignment)) {
        for (int k = 0; k < parts->cnt; ++k)
          member.assignment.emplace_back(parts->elems[k].topic, parts->elems[k].partition);
      }
    }
    std::sort(member.assignment.begin(), member.assignment.end());
    info.members.push_back(std::move(member));
  }
  return info;
}

// Committed offsets of every partition the group has committed for.
std::map<TopicPartition, int64_t> committed_offsets(KafkaClient& client, const std::string& group) {
  rd_kafka_ListConsumerGroupOffsets_t* request = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
  std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t, decltype(&rd_kafka_ListConsumerGroupOffsets_destroy)> owned(
      request, &rd_kafka_ListConsumerGroupOffsets_destroy);
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_ListConsumerGroupOffsets(client.get(), &request, 1, options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "OffsetFetch");
  size_t count = 0;
  const auto** results = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &count);
  std::map<TopicPartition, int64_t> out;
  if (count != 1) fail("OffsetFetch returned no result for group '" + group + "'");
  if (const rd_kafka_error_t* error = rd_kafka_group_result_error(results[0])) {
    fail("cannot read committed offsets of group '" + group + "': " + group_error_text(error));
  }
  if (const auto* parts = rd_kafka_group_result_partitions(results[0])) {
    for (int i = 0; i < parts->cnt; ++i) {
      const auto& tp = parts->elems[i];
      if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR && tp.offset >= 0) out[{tp.topic, tp.partition}] = tp.offset;
    }
  }
  return out;
}

void run_list(GroupOptions& o) {
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  client.metadata();
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_ListConsumerGroups(client.get(), options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "ListGroups");
  const auto* result = rd_kafka_event_ListConsumerGroups_result(event.get());
  size_t count = 0;
  const auto** listings = rd_kafka_ListConsumerGroups_result_valid(result, &count);
  std::vector<std::pair<std::string, std::string>> groups;
  for (size_t i = 0; i < count; ++i) {
    groups.emplace_back(rd_kafka_ConsumerGroupListing_group_id(listings[i]),
                        state_name(rd_kafka_ConsumerGroupListing_state(listings[i])));
  }
  std::sort(groups.begin(), groups.end());
  Table table({"GROUP", "STATE"});
  JsonWriter json;
  json.begin_array();
  for (const auto& [name, state] : groups) {
    table.add_row({name, state});
    json.begin_object().field("group", name).field("state", state).end_object();
  }
  json.end_array();
  o.format == OutputFormat::kJson ? json.print() : table.print();
  // Some brokers of a cluster may fail to answer: show what we have, then
  // report each failure and exit 1.
  ItemErrors errors;
  size_t error_count = 0;
  const auto** list_errors = rd_kafka_ListConsumerGroups_result_errors(result, &error_count);
  for (size_t i = 0; i < error_count; ++i) errors.add("cannot list groups: " + group_error_text(list_errors[i]));
  errors.finish();
}

void describe_one(KafkaClient& client, const rd_kafka_metadata_t& md, const std::string& group, OutputFormat format,
                  JsonWriter& json) {
  const GroupInfo info = describe_group(client, group);
  if (!info.exists) fail("group '" + group + "' does not exist");
  const auto committed = committed_offsets(client, group);

  std::map<TopicPartition, const Member*> owner;
  for (const auto& m : info.members) {
    for (const auto& tp : m.assignment) owner[tp] = &m;
  }
  // Every partition of every topic the group commits to or is assigned:
  // a partition the group never committed is unread data too, so it is
  // listed (offset and lag "-", as kafka-consumer-groups.sh shows them).
  std::set<TopicPartition> partitions;
  for (const auto& [tp, offset] : committed) partitions.insert(tp);
  for (const auto& [tp, m] : owner) partitions.insert(tp);
  std::set<std::string> topics;
  for (const auto& tp : partitions) topics.insert(tp.first);
  for (const auto& name : topics) {
    if (const auto* t = find_topic(md, name); t != nullptr && t->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int p = 0; p < t->partition_cnt; ++p) partitions.emplace(name, t->partitions[p].id);
    }
  }

  struct Row {
    TopicPartition tp;
    std::optional<int64_t> committed, end, lag;
    const Member* member = nullptr;
  };
  std::vector<Row> rows;
  int64_t total_lag = 0;
  for (const auto& tp : partitions) {
    Row row{tp, {}, {}, {}, owner.count(tp) ? owner[tp] : nullptr};
    if (auto it = committed.find(tp); it != committed.end()) row.committed = it->second;
    row.end = client.watermarks(tp.first, tp.second).high;
    if (row.committed) row.lag = std::max<int64_t>(0, *row.end - *row.committed);
    total_lag += row.lag.value_or(0);
    rows.push_back(row);
  }

  const std::string coordinator = info.coordinator_id < 0
                                      ? "-"
                                      : std::to_string(info.coordinator_id) + " (" + info.coordinator_host + ":" +
                                            std::to_string(info.coordinator_port) + ")";
  if (format == OutputFormat::kTable) {
    Table summary;
    summary.add_row({"GROUP", group});
    summary.add_row({"STATE", state_name(info.state)});
    summary.add_row({"COORDINATOR", coordinator});
    summary.add_row({"ASSIGNOR", info.assignor.empty() ? "-" : info.assignor});
    summary.add_row({"MEMBERS", std::to_string(info.members.size())});
    summary.add_row({"TOTAL-LAG", std::to_string(total_lag)});
    summary.print();
    if (!info.members.empty()) {
      Table members({"MEMBER-ID", "CLIENT-ID", "HOST", "PARTITIONS"});
      for (const auto& m : info.members) {
        std::string assigned;
        for (const auto& [t, p] : m.assignment) assigned += (assigned.empty() ? "" : " ") + t + "/" + std::to_string(p);
        members.add_row({m.member_id, m.client_id, m.host, assigned.empty() ? "-" : assigned});
      }
      std::printf("\n");
      members.print();
    }
    if (!rows.empty()) {
      Table table({"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID"});
      auto num = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("-"); };
      for (const auto& r : rows) {
        table.add_row({r.tp.first, std::to_string(r.tp.second), num(r.committed), num(r.end), num(r.lag),
                       r.member ? r.member->member_id : "-"});
      }
      std::printf("\n");
      table.print();
    }
    return;
  }
  json.begin_object().field("group", group).field("state", state_name(info.state)).key("coordinator");
  if (info.coordinator_id < 0) {
    json.null();
  } else {
    json.begin_object()
        .field("id", info.coordinator_id)
        .field("host", info.coordinator_host)
        .field("port", info.coordinator_port)
        .end_object();
  }
  json.field("assignor", info.assignor).field("total_lag", total_lag).key("members").begin_array();
  for (const auto& m : info.members) {
    json.begin_object()
        .field("member_id", m.member_id)
        .field("client_id", m.client_id)
        .field("host", m.host)
        .field("group_instance_id", m.instance_id.empty() ? std::nullopt : std::optional<std::string>(m.instance_id))
        .key("partitions")
        .begin_array();
    for (const auto& [t, p] : m.assignment) json.begin_object().field("topic", t).field("partition", p).end_object();
    json.end_array().end_object();
  }
  json.end_array().key("offsets").begin_array();
  for (const auto& r : rows) {
    json.begin_object()
        .field("topic", r.tp.first)
        .field("partition", r.tp.second)
        .field("committed_offset", r.committed)
        .field("log_end_offset", r.end)
        .field("lag", r.lag)
        .field("member_id", r.member ? std::optional<std::string>(r.member->member_id) : std::nullopt)
        .end_object();
  }
  json.end_array().end_object();
}

void run_describe(GroupOptions& o) {
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  MetadataPtr md = client.metadata();
  ItemErrors errors;
  JsonWriter json;
  json.begin_array();
  for (size_t i = 0; i < o.groups.size(); ++i) {
    if (i > 0 && o.format == OutputFormat::kTable) std::printf("\n");
    try {
      describe_one(client, *md, o.groups[i], o.format, json);
    } catch (const CliError& e) {
      if (e.code() != kExitFailed) throw;
      errors.add(e.what());
    }
  }
  json.end_array();
  if (o.format == OutputFormat::kJson) json.print();
  errors.finish();
}

// "2024-01-31T12:00:00[.123][Z|+02:00]" or epoch milliseconds. Without a
// zone the time is local, as kafka-consumer-groups.sh does.
int64_t parse_datetime_ms(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 18) {
    return std::stoll(text);
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    usage_error("invalid --to-datetime '" + text + "' (expected YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH:MM] or epoch ms)");
  }
  std::string rest = text.substr(static_cast<size_t>(consumed));
  int64_t millis = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    std::string frac = (rest.substr(1, digits - 1) + "000").substr(0, 3);
    millis = std::stoll(frac);
    rest = rest.substr(digits);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t seconds;
  if (rest.empty()) {
    tm.tm_isdst = -1;
    seconds = std::mktime(&tm);
  } else {
    int sign = 0, hh = 0, mm = 0;
    if (rest == "Z") {
      sign = 1;
    } else if ((rest[0] == '+' || rest[0] == '-') &&
               (std::sscanf(rest.c_str() + 1, "%2d:%2d", &hh, &mm) == 2 ||
                (rest.size() == 5 && std::sscanf(rest.c_str() + 1, "%2d%2d", &hh, &mm) == 2))) {
      sign = rest[0] == '+' ? 1 : -1;
    } else {
      usage_error("invalid time zone in --to-datetime '" + text + "' (use Z or +HH:MM)");
    }
    seconds = timegm(&tm) - sign * (hh * 3600 + mm * 60);
  }
  return static_cast<int64_t>(seconds) * 1000 + millis;
}

void run_reset_offsets(GroupOptions& o) {
  const int strategies = int(o.to_earliest) + int(o.to_latest) + int(!o.to_datetime.empty()) +
                         int(o.to_offset.has_value()) + int(o.shift_by.has_value());
  if (strategies != 1) {
    usage_error("give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by");
  }
  if (o.topics.empty() == !o.all_topics) usage_error("give --topic T[:P,...] (repeatable) or --all-topics");
  const bool by_datetime = !o.to_datetime.empty();
  const int64_t timestamp = by_datetime ? parse_datetime_ms(o.to_datetime) : -1;
  const std::string& group = o.groups.front();

  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  MetadataPtr md = client.metadata();
  const GroupInfo info = describe_group(client, group);
  if (info.exists && info.state != RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY) {
    fail("group '" + group + "' is " + state_name(info.state) + " with " + std::to_string(info.members.size()) +
         " member(s); stop its consumers before resetting offsets");
  }
  const auto committed = info.exists ? committed_offsets(client, group) : std::map<TopicPartition, int64_t>{};

  std::vector<TopicPartition> partitions;
  if (o.all_topics) {
    for (const auto& [tp, offset] : committed) partitions.push_back(tp);
    if (partitions.empty()) fail("group '" + group + "' has no committed offsets; name the topics with --topic");
  }
  for (const auto& spec : o.topics) {
    const auto colon = spec.find(':');
    const std::string name = spec.substr(0, colon);
    const auto& topic = require_topic(*md, name);
    if (colon == std::string::npos) {
      for (int p = 0; p < topic.partition_cnt; ++p) partitions.emplace_back(name, p);
      continue;
    }
    std::stringstream list(spec.substr(colon + 1));
    for (std::string item; std::getline(list, item, ',');) {
      if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos || item.size() > 9) {
        usage_error("invalid partition '" + item + "' in --topic '" + spec + "'");
      }
      const int p = std::stoi(item);
      if (p >= topic.partition_cnt) fail("topic '" + name + "' has no partition " + item);
      partitions.emplace_back(name, p);
    }
  }
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());

  std::map<TopicPartition, int64_t> by_time;
  if (by_datetime) {
    PartitionListPtr query(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (const auto& [t, p] : partitions)
      rd_kafka_topic_partition_list_add(query.get(), t.c_str(), p)->offset = timestamp;
    if (const auto err = rd_kafka_offsets_for_times(client.get(), query.get(), client.timeout_ms())) {
      fail("cannot look up offsets for " + o.to_datetime + ": " + error_text(err));
    }
    for (int i = 0; i < query->cnt; ++i)
      by_time[{query->elems[i].topic, query->elems[i].partition}] = query->elems[i].offset;
  }

  PartitionListPtr plan(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  Table table({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"});
  JsonWriter json;
  json.begin_object().field("group", group).field("executed", o.execute).key("offsets").begin_array();
  for (const auto& tp : partitions) {
    const Watermarks w = client.watermarks(tp.first, tp.second);
    // (A plain value + flag: g++ 12 misreports optional<int64_t> here.)
    const auto current_it = committed.find(tp);
    const bool has_current = current_it != committed.end();
    const int64_t current = has_current ? current_it->second : -1;
    int64_t target = 0;
    if (o.to_earliest) {
      target = w.low;
    } else if (o.to_latest) {
      target = w.high;
    } else if (o.to_offset) {
      target = *o.to_offset;
    } else if (o.shift_by) {
      if (!has_current) {
        fail("cannot shift " + tp.first + "/" + std::to_string(tp.second) +
             ": the group has no committed offset there");
      }
      target = current + *o.shift_by;
    } else {
      target = by_time[tp] < 0 ? w.high : by_time[tp];
    }
    // Out-of-range targets are clamped to the log, like kafka-consumer-groups.
    target = std::clamp(target, w.low, w.high);
    rd_kafka_topic_partition_list_add(plan.get(), tp.first.c_str(), tp.second)->offset = target;
    table.add_row({group, tp.first, std::to_string(tp.second), has_current ? std::to_string(current) : "-",
                   std::to_string(target)});
    json.begin_object().field("topic", tp.first).field("partition", tp.second).key("current_offset");
    has_current ? json.value(current) : json.null();
    json.field("new_offset", target).end_object();
  }
  json.end_array().end_object();

  if (o.execute) {
    rd_kafka_AlterConsumerGroupOffsets_t* request = rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), plan.get());
    std::unique_ptr<rd_kafka_AlterConsumerGroupOffsets_t, decltype(&rd_kafka_AlterConsumerGroupOffsets_destroy)> owned(
        request, &rd_kafka_AlterConsumerGroupOffsets_destroy);
    auto options = client.admin_options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
    QueuePtr queue(rd_kafka_queue_new(client.get()));
    rd_kafka_AlterConsumerGroupOffsets(client.get(), &request, 1, options.get(), queue.get());
    EventPtr event = client.wait_admin_result(queue.get(), "OffsetCommit");
    size_t count = 0;
    const auto** results = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(event.get()), &count);
    if (count == 1) {
      if (const rd_kafka_error_t* error = rd_kafka_group_result_error(results[0])) {
        fail("cannot reset offsets of group '" + group + "': " + group_error_text(error));
      }
      if (const auto* parts = rd_kafka_group_result_partitions(results[0])) {
        for (int i = 0; i < parts->cnt; ++i) {
          if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fail("cannot reset offset of " + std::string(parts->elems[i].topic) + "/" +
                 std::to_string(parts->elems[i].partition) + ": " + error_text(parts->elems[i].err));
          }
        }
      }
    }
  }
  if (o.format == OutputFormat::kJson) {
    json.print();
  } else {
    table.print();
    if (!o.execute) std::printf("\ndry run: nothing changed; add --execute to apply these offsets\n");
  }
}

void run_delete(GroupOptions& o) {
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  client.metadata();
  std::vector<rd_kafka_DeleteGroup_t*> del;
  struct Cleanup {
    std::vector<rd_kafka_DeleteGroup_t*>& v;
    ~Cleanup() { rd_kafka_DeleteGroup_destroy_array(v.data(), v.size()); }
  } cleanup{del};
  for (const auto& g : o.groups) del.push_back(rd_kafka_DeleteGroup_new(g.c_str()));
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_DELETEGROUPS);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_DeleteGroups(client.get(), del.data(), del.size(), options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "DeleteGroups");
  size_t count = 0;
  const auto** results = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(event.get()), &count);
  ItemErrors errors;
  Table table({"GROUP", "STATUS"});
  JsonWriter json;
  json.begin_array();
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_group_result_name(results[i]);
    std::optional<std::string> message;
    if (const rd_kafka_error_t* error = rd_kafka_group_result_error(results[i])) {
      message = group_error_text(error);
      errors.add("cannot delete group '" + name + "': " + *message);
    } else {
      table.add_row({name, "deleted"});
    }
    json.begin_object().field("group", name).field("ok", !message).field("error", message).end_object();
  }
  json.end_array();
  if (o.format == OutputFormat::kJson) {
    json.print();
  } else if (!table.empty()) {
    table.print();
  }
  errors.finish();
}

CLI::App* leaf(CLI::App* parent, const std::string& name, const std::string& about,
               const std::shared_ptr<GroupOptions>& o, void (*run)(GroupOptions&)) {
  CLI::App* cmd = parent->add_subcommand(name, about);
  add_client_options(cmd, o->client);
  add_format_option(cmd, o->format);
  cmd->callback([o, run] { run_command([&] { run(*o); }); });
  return cmd;
}

}  // namespace

void add_group_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("group", "List, describe, reset and delete consumer groups");
  group->require_subcommand(1);

  leaf(group, "list", "List consumer groups", std::make_shared<GroupOptions>(), run_list);

  auto describe = std::make_shared<GroupOptions>();
  CLI::App* cmd =
      leaf(group, "describe", "Members, committed offsets, log end offsets and lag of groups", describe, run_describe);
  cmd->add_option("groups", describe->groups, "Group ids")->required();

  auto reset = std::make_shared<GroupOptions>();
  cmd = leaf(group, "reset-offsets", "Plan (default) or --execute a reset of committed offsets of an empty group",
             reset, run_reset_offsets);
  cmd->add_option("group", reset->groups, "Group id")->required()->expected(1);
  cmd->add_option("-t,--topic", reset->topics, "Topic to reset, optionally with partitions: T or T:0,1 (repeatable)");
  cmd->add_flag("--all-topics", reset->all_topics, "Every topic the group has committed offsets for");
  cmd->add_flag("--to-earliest", reset->to_earliest, "Reset to the log start offset");
  cmd->add_flag("--to-latest", reset->to_latest, "Reset to the log end offset");
  cmd->add_option("--to-datetime", reset->to_datetime,
                  "Reset to the first offset at or after YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH:MM] (or epoch ms)");
  cmd->add_option("--to-offset", reset->to_offset, "Reset to this offset (clamped to the log)");
  cmd->add_option("--shift-by", reset->shift_by, "Move the committed offset by N (negative: back)");
  auto* dry = cmd->add_flag("--dry-run", reset->dry_run, "Only print the plan (the default)");
  cmd->add_flag("--execute", reset->execute, "Apply the plan")->excludes(dry);

  auto del = std::make_shared<GroupOptions>();
  cmd = leaf(group, "delete", "Delete (empty) consumer groups and their committed offsets", del, run_delete);
  cmd->add_option("groups", del->groups, "Group ids")->required();
}

}  // namespace runnel::cli

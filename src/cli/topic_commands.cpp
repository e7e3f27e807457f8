// `runnel topic create|list|describe|delete|alter-config|add-partitions`.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/kafka_client.h"
#include "cli/table.h"

namespace runnel::cli {
namespace {

struct TopicOptions {
  ClientOptions client;
  OutputFormat format = OutputFormat::kTable;
  std::vector<std::string> topics;
  int partitions = -1;
  int replication_factor = -1;
  std::vector<std::string> configs;  // create: -c key=value; alter-config: --set key=value
  std::vector<std::string> deletes;  // alter-config: --delete key
  bool dry_run = false;
  bool internal = false;
  bool no_configs = false;
  int add = 0;    // add-partitions --num
  int total = 0;  // add-partitions --total
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  std::string source;
  bool sensitive = false;
  bool read_only = false;
  bool dynamic_topic = false;  // set on the topic itself (not inherited)
};

bool is_internal_topic(const std::string& name) { return name.rfind("__", 0) == 0; }

std::string id_list(const int32_t* ids, int count) {
  std::string out = "[";
  for (int i = 0; i < count; ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

void json_ids(JsonWriter& json, const int32_t* ids, int count) {
  json.begin_array();
  for (int i = 0; i < count; ++i) json.value(ids[i]);
  json.end_array();
}

// Reports per-topic results of CreateTopics/DeleteTopics/CreatePartitions:
// table rows or JSON entries for successes, one stderr line per failure.
void report_topic_results(const rd_kafka_topic_result_t** results, size_t count, const std::string& verb,
                          const std::string& status, OutputFormat format) {
  ItemErrors errors;
  Table table({"TOPIC", "STATUS"});
  JsonWriter json;
  json.begin_array();
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_topic_result_name(results[i]);
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    std::optional<std::string> message;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      message = error_text(err, rd_kafka_topic_result_error_string(results[i]));
      errors.add("cannot " + verb + " topic '" + name + "': " + *message);
    } else {
      table.add_row({name, status});
    }
    json.begin_object().field("topic", name).field("ok", !message).field("error", message).end_object();
  }
  json.end_array();
  if (format == OutputFormat::kJson) {
    json.print();
  } else if (!table.empty()) {
    table.print();
  }
  errors.finish();
}

std::vector<ConfigEntry> describe_topic_configs(KafkaClient& client, const std::string& topic) {
  std::unique_ptr<rd_kafka_ConfigResource_t, decltype(&rd_kafka_ConfigResource_destroy)> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()), &rd_kafka_ConfigResource_destroy);
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_DescribeConfigs(client.get(), resources, 1, options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "DescribeConfigs");
  size_t count = 0;
  const auto** results =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  if (count != 1) fail("DescribeConfigs returned no result for topic '" + topic + "'");
  if (const auto err = rd_kafka_ConfigResource_error(results[0]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) fail("unknown topic '" + topic + "'");
    fail("cannot describe configs of topic '" + topic + "': " + error_text(err));
  }
  size_t entry_count = 0;
  const auto** entries = rd_kafka_ConfigResource_configs(results[0], &entry_count);
  std::vector<ConfigEntry> out;
  for (size_t i = 0; i < entry_count; ++i) {
    ConfigEntry e;
    e.name = rd_kafka_ConfigEntry_name(entries[i]);
    if (const char* v = rd_kafka_ConfigEntry_value(entries[i])) e.value = v;
    const auto source = rd_kafka_ConfigEntry_source(entries[i]);
    e.source = rd_kafka_ConfigSource_name(source);
    e.sensitive = rd_kafka_ConfigEntry_is_sensitive(entries[i]) != 0;
    e.read_only = rd_kafka_ConfigEntry_is_read_only(entries[i]) != 0;
    e.dynamic_topic = source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void run_create(TopicOptions& o) {
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  std::vector<std::pair<std::string, std::string>> configs;
  for (const auto& c : o.configs) configs.push_back(split_assignment(c, "config"));
  client.metadata();  // reachability check: exit 3 before anything else

  std::vector<rd_kafka_NewTopic_t*> new_topics;
  struct Cleanup {
    std::vector<rd_kafka_NewTopic_t*>& v;
    ~Cleanup() { rd_kafka_NewTopic_destroy_array(v.data(), v.size()); }
  } cleanup{new_topics};
  for (const auto& name : o.topics) {
    char errstr[512];
    // -1 asks the broker for its defaults (num.partitions,
    // default.replication.factor), as kafka-topics.sh and rpk do.
    rd_kafka_NewTopic_t* topic =
        rd_kafka_NewTopic_new(name.c_str(), o.partitions, o.replication_factor, errstr, sizeof errstr);
    if (topic == nullptr) usage_error("topic '" + name + "': " + errstr);
    new_topics.push_back(topic);
    for (const auto& [key, value] : configs) {
      if (rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        usage_error("invalid config " + key + "=" + value);
      }
    }
  }
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_CREATETOPICS, o.dry_run);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_CreateTopics(client.get(), new_topics.data(), new_topics.size(), options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "CreateTopics");
  size_t count = 0;
  const auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  report_topic_results(results, count, "create", o.dry_run ? "valid (dry run, not created)" : "created", o.format);
}

void run_list(TopicOptions& o) {
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  MetadataPtr md = client.metadata();
  std::vector<const rd_kafka_metadata_topic_t*> topics;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && (o.internal || !is_internal_topic(t.topic))) topics.push_back(&t);
  }
  std::sort(topics.begin(), topics.end(), [](auto* a, auto* b) { return std::string(a->topic) < b->topic; });
  Table table({"NAME", "PARTITIONS", "REPLICAS"});
  JsonWriter json;
  json.begin_array();
  for (const auto* t : topics) {
    const int replicas = t->partition_cnt > 0 ? t->partitions[0].replica_cnt : 0;
    table.add_row({t->topic, std::to_string(t->partition_cnt), std::to_string(replicas)});
    json.begin_object()
        .field("name", t->topic)
        .field("partitions", t->partition_cnt)
        .field("replication_factor", replicas)
        .field("internal", is_internal_topic(t->topic))
        .end_object();
  }
  json.end_array();
  o.format == OutputFormat::kJson ? json.print() : table.print();
}

// One topic of `topic describe`. Failures are reported through `errors` so
// that the other topics are still described.
void describe_one(KafkaClient& client, const rd_kafka_metadata_t& md, const std::string& name, const TopicOptions& o,
                  JsonWriter& json, ItemErrors& errors) {
  const auto* t = find_topic(md, name);
  if (t == nullptr || t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    errors.add(t == nullptr || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                   ? "unknown topic '" + name + "'"
                   : "topic '" + name + "': " + error_text(t->err));
    return;
  }
  std::vector<const rd_kafka_metadata_partition_t*> partitions;
  for (int i = 0; i < t->partition_cnt; ++i) partitions.push_back(&t->partitions[i]);
  std::sort(partitions.begin(), partitions.end(), [](auto* a, auto* b) { return a->id < b->id; });

  std::vector<ConfigEntry> configs;
  std::optional<std::string> config_error;
  if (!o.no_configs) {
    try {
      configs = describe_topic_configs(client, name);
    } catch (const CliError& e) {
      config_error = e.what();
    }
  }
  const bool human = o.format == OutputFormat::kTable;
  const int replicas = partitions.empty() ? 0 : partitions[0]->replica_cnt;
  Table summary;
  summary.add_row({"NAME", name});
  summary.add_row({"PARTITIONS", std::to_string(t->partition_cnt)});
  summary.add_row({"REPLICAS", std::to_string(replicas)});
  // Fewer replicas in sync than assigned: a broker is down or behind.
  const auto under_replicated = std::count_if(partitions.begin(), partitions.end(),
                                              [](const auto* p) { return p->isr_cnt < p->replica_cnt; });
  summary.add_row({"UNDER-REPLICATED", std::to_string(under_replicated)});
  if (human) summary.print();

  json.begin_object().field("name", name).field("internal", is_internal_topic(name));
  json.field("replication_factor", replicas).field("under_replicated_partitions", under_replicated);
  json.key("partitions").begin_array();
  Table table({"PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "LOG-END-OFFSET", "STATUS"});
  for (const auto* p : partitions) {
    std::optional<Watermarks> w;
    std::optional<std::string> p_error;
    if (p->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      p_error = error_text(p->err);
    } else {
      try {
        w = client.watermarks(name, p->id);
      } catch (const CliError& e) {
        p_error = e.what();
        errors.add(e.what());
      }
    }
    table.add_row({std::to_string(p->id), std::to_string(p->leader), id_list(p->replicas, p->replica_cnt),
                   id_list(p->isrs, p->isr_cnt), w ? std::to_string(w->low) : "-", w ? std::to_string(w->high) : "-",
                   p->leader < 0 ? "offline" : p->isr_cnt < p->replica_cnt ? "under-replicated" : ""});
    json.begin_object().field("partition", p->id).field("leader", p->leader).key("replicas");
    json_ids(json, p->replicas, p->replica_cnt);
    json.key("isr");
    json_ids(json, p->isrs, p->isr_cnt);
    json.field("under_replicated", p->isr_cnt < p->replica_cnt).field("offline", p->leader < 0);
    json.field("log_start_offset", w ? std::optional<int64_t>(w->low) : std::nullopt)
        .field("log_end_offset", w ? std::optional<int64_t>(w->high) : std::nullopt)
        .field("error", p_error)
        .end_object();
  }
  json.end_array();
  if (human) {
    std::printf("\n");
    table.print();
  }
  if (o.no_configs) {
    json.end_object();
    return;
  }
  Table config_table({"CONFIG", "VALUE", "SOURCE"});
  json.key("configs");
  if (config_error) {
    json.null();
    errors.add(*config_error);
  } else {
    json.begin_array();
    for (const auto& c : configs) {
      const std::string shown = c.sensitive ? "(sensitive)" : c.value.value_or("-");
      config_table.add_row({c.name, shown, c.source});
      json.begin_object()
          .field("name", c.name)
          .field("value", c.sensitive ? std::nullopt : c.value)
          .field("source", c.source)
          .field("read_only", c.read_only)
          .field("sensitive", c.sensitive)
          .end_object();
    }
    json.end_array();
  }
  json.field("configs_error", config_error).end_object();
  if (human && !config_error) {
    std::printf("\n");
    config_table.print();
  }
}

void run_describe(TopicOptions& o) {
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  MetadataPtr md = client.metadata();
  ItemErrors errors;
  JsonWriter json;
  json.begin_array();
  for (size_t i = 0; i < o.topics.size(); ++i) {
    if (i > 0 && o.format == OutputFormat::kTable) std::printf("\n");
    describe_one(client, *md, o.topics[i], o, json, errors);
  }
  json.end_array();
  if (o.format == OutputFormat::kJson) json.print();
  errors.finish();
}

void run_delete(TopicOptions& o) {
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  client.metadata();
  std::vector<rd_kafka_DeleteTopic_t*> del;
  struct Cleanup {
    std::vector<rd_kafka_DeleteTopic_t*>& v;
    ~Cleanup() { rd_kafka_DeleteTopic_destroy_array(v.data(), v.size()); }
  } cleanup{del};
  for (const auto& name : o.topics) del.push_back(rd_kafka_DeleteTopic_new(name.c_str()));
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_DELETETOPICS);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_DeleteTopics(client.get(), del.data(), del.size(), options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "DeleteTopics");
  size_t count = 0;
  const auto** results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
  report_topic_results(results, count, "delete", "deleted", o.format);
}

// librdkafka 2.0.2 has no IncrementalAlterConfigs, and the legacy
// AlterConfigs replaces the whole dynamic config of the topic. So: read the
// topic's current dynamic configs, apply the edits, write the full set back.
// (Not atomic against a concurrent change; kafka-configs.sh did the same
// before KIP-339.)
void run_alter_config(TopicOptions& o) {
  if (o.configs.empty() && o.deletes.empty()) usage_error("nothing to change: give --set key=value or --delete key");
  std::map<std::string, std::string> sets;
  for (const auto& c : o.configs) {
    auto [key, value] = split_assignment(c, "--set");
    sets.insert_or_assign(key, value);
  }
  for (const auto& d : o.deletes) {
    if (sets.count(d)) usage_error("config '" + d + "' is both set and deleted");
  }
  const std::string& topic = o.topics.front();
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  MetadataPtr md = client.metadata();
  require_topic(*md, topic);

  std::map<std::string, std::string> desired;
  for (const auto& c : describe_topic_configs(client, topic)) {
    if (!c.dynamic_topic) continue;
    if (!c.value) {
      if (std::find(o.deletes.begin(), o.deletes.end(), c.name) != o.deletes.end() || sets.count(c.name)) continue;
      fail("cannot preserve sensitive config '" + c.name + "' of topic '" + topic + "' (its value is hidden)");
    }
    desired[c.name] = *c.value;
  }
  for (const auto& d : o.deletes) desired.erase(d);
  for (const auto& [k, v] : sets) desired[k] = v;

  std::unique_ptr<rd_kafka_ConfigResource_t, decltype(&rd_kafka_ConfigResource_destroy)> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()), &rd_kafka_ConfigResource_destroy);
  for (const auto& [k, v] : desired) {
    if (rd_kafka_ConfigResource_set_config(resource.get(), k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      usage_error("invalid config " + k + "=" + v);
    }
  }
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_ALTERCONFIGS, o.dry_run);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_AlterConfigs(client.get(), resources, 1, options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "AlterConfigs");
  size_t count = 0;
  const auto** results =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event.get()), &count);
  if (count == 1) {
    if (const auto err = rd_kafka_ConfigResource_error(results[0]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("cannot alter configs of topic '" + topic +
           "': " + error_text(err, rd_kafka_ConfigResource_error_string(results[0])));
    }
  }
  Table table({"CONFIG", "CHANGE", "VALUE"});
  JsonWriter json;
  json.begin_object().field("topic", topic).field("dry_run", o.dry_run).key("changes").begin_array();
  for (const auto& [k, v] : sets) {
    table.add_row({k, "set", v});
    json.begin_object().field("name", k).field("value", v).end_object();
  }
  for (const auto& d : o.deletes) {
    table.add_row({d, "deleted (back to default)", "-"});
    json.begin_object().field("name", d).key("value").null().end_object();
  }
  json.end_array().end_object();
  if (o.format == OutputFormat::kJson) {
    json.print();
  } else {
    if (o.dry_run) std::printf("dry run: the broker validated these changes; nothing was altered\n");
    table.print();
  }
}

void run_add_partitions(TopicOptions& o) {
  if ((o.add > 0) == (o.total > 0)) usage_error("give exactly one of --num N (partitions to add) or --total N");
  const std::string& topic = o.topics.front();
  KafkaClient client(o.client, RD_KAFKA_PRODUCER);
  MetadataPtr md = client.metadata();
  const int current = require_topic(*md, topic).partition_cnt;
  const int total = o.total > 0 ? o.total : current + o.add;
  if (total <= current) {
    fail("topic '" + topic + "' already has " + std::to_string(current) + " partitions; partitions can only be added");
  }
  char errstr[512];
  rd_kafka_NewPartitions_t* np =
      rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), errstr, sizeof errstr);
  if (np == nullptr) usage_error(errstr);
  std::unique_ptr<rd_kafka_NewPartitions_t, decltype(&rd_kafka_NewPartitions_destroy)> owned(
      np, &rd_kafka_NewPartitions_destroy);
  auto options = client.admin_options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, o.dry_run);
  QueuePtr queue(rd_kafka_queue_new(client.get()));
  rd_kafka_CreatePartitions(client.get(), &np, 1, options.get(), queue.get());
  EventPtr event = client.wait_admin_result(queue.get(), "CreatePartitions");
  size_t count = 0;
  const auto** results =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event.get()), &count);
  const std::string status = std::to_string(current) + " -> " + std::to_string(total) + " partitions" +
                             (o.dry_run ? " (dry run, not changed)" : "");
  report_topic_results(results, count, "add partitions to", status, o.format);
}

CLI::App* leaf(CLI::App* parent, const std::string& name, const std::string& about,
               const std::shared_ptr<TopicOptions>& o, void (*run)(TopicOptions&)) {
  CLI::App* cmd = parent->add_subcommand(name, about);
  add_client_options(cmd, o->client);
  add_format_option(cmd, o->format);
  cmd->callback([o, run] { run_command([&] { run(*o); }); });
  return cmd;
}

}  // namespace

void add_topic_commands(CLI::App& app) {
  CLI::App* topic = app.add_subcommand("topic", "Create, list, describe, alter and delete topics");
  topic->require_subcommand(1);

  auto create = std::make_shared<TopicOptions>();
  CLI::App* cmd = leaf(topic, "create", "Create topics", create, run_create);
  cmd->add_option("topics", create->topics, "Topic names")->required();
  cmd->add_option("-p,--partitions", create->partitions, "Number of partitions (default: broker's num.partitions)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("-r,--replication-factor", create->replication_factor,
                  "Replicas per partition (default: broker's default.replication.factor)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("-c,--config", create->configs, "Topic config key=value (repeatable), e.g. retention.ms=60000");
  cmd->add_flag("--dry-run", create->dry_run, "Only ask the broker to validate the request (validate_only)");

  auto list = std::make_shared<TopicOptions>();
  cmd = leaf(topic, "list", "List topics", list, run_list);
  cmd->add_flag("-i,--internal", list->internal, "Include internal topics such as __consumer_offsets");

  auto describe = std::make_shared<TopicOptions>();
  cmd = leaf(topic, "describe", "Partitions (leader, replicas, ISR, offsets) and configs of topics", describe,
             run_describe);
  cmd->add_option("topics", describe->topics, "Topic names")->required();
  cmd->add_flag("--no-configs", describe->no_configs, "Skip the configs section (no DescribeConfigs request)");

  auto del = std::make_shared<TopicOptions>();
  cmd = leaf(topic, "delete", "Delete topics", del, run_delete);
  cmd->add_option("topics", del->topics, "Topic names")->required();

  auto alter = std::make_shared<TopicOptions>();
  cmd = leaf(topic, "alter-config", "Set or delete dynamic configs of a topic", alter, run_alter_config);
  cmd->add_option("topic", alter->topics, "Topic name")->required()->expected(1);
  cmd->add_option("-s,--set", alter->configs, "Set key=value (repeatable)");
  cmd->add_option("-d,--delete", alter->deletes, "Remove an override so the broker default applies (repeatable)");
  cmd->add_flag("--dry-run", alter->dry_run, "Only ask the broker to validate the change (validate_only)");

  auto add = std::make_shared<TopicOptions>();
  cmd = leaf(topic, "add-partitions", "Add partitions to a topic", add, run_add_partitions);
  cmd->add_option("topic", add->topics, "Topic name")->required()->expected(1);
  cmd->add_option("-n,--num", add->add, "Number of partitions to add")->check(CLI::PositiveNumber);
  cmd->add_option("--total", add->total, "New total number of partitions")->check(CLI::PositiveNumber);
  cmd->add_flag("--dry-run", add->dry_run, "Only ask the broker to validate the request (validate_only)");

  add_reassign_commands(topic);
}

}  // namespace runnel::cli

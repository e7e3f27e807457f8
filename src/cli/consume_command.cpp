// `runnel consume TOPIC`: print records, either as a group member (offsets
// committed) or from explicit partitions at a chosen start position.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <set>

#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/kafka_client.h"
#include "cli/record_format.h"

namespace runnel::cli {
namespace {

struct ConsumeOptions {
  ClientOptions client;
  std::string topic;
  std::string group;
  std::vector<int> partitions;
  std::string offset = "earliest";
  int64_t num = 0;
  std::string format = "%s\\n";
  bool exit_at_end = false;
};

struct StartOffset {
  enum Kind { kEarliest, kLatest, kAbsolute, kTimestamp, kFromEnd } kind = kEarliest;
  int64_t n = 0;
};

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

StartOffset parse_start_offset(const std::string& spec) {
  if (spec == "earliest" || spec == "beginning" || spec == "start" || spec == "oldest") return {};
  if (spec == "latest" || spec == "end" || spec == "newest") return {StartOffset::kLatest, 0};
  std::string_view s(spec);
  if (s.starts_with('@') && all_digits(s.substr(1))) return {StartOffset::kTimestamp, std::stoll(spec.substr(1))};
  if (s.starts_with('-') && all_digits(s.substr(1))) return {StartOffset::kFromEnd, std::stoll(spec.substr(1))};
  if (all_digits(s)) return {StartOffset::kAbsolute, std::stoll(spec)};
  usage_error("invalid --offset '" + spec + "' (expected earliest, latest, N, @timestamp_ms or -N)");
}

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

// Ctrl-C / SIGTERM end the loop cleanly so a group commits what was printed.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Explicit start offsets per partition for assign mode. Absolute and
// relative positions are clamped into [log start, log end] here rather than
// left to auto.offset.reset, so the outcome does not depend on that setting.
PartitionListPtr start_positions(KafkaClient& client, const ConsumeOptions& o, const std::vector<int>& partitions,
                                 const StartOffset& start) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (int p : partitions) {
    auto* tp = rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), p);
    switch (start.kind) {
      case StartOffset::kEarliest: tp->offset = RD_KAFKA_OFFSET_BEGINNING; break;
      case StartOffset::kLatest: tp->offset = RD_KAFKA_OFFSET_END; break;
      case StartOffset::kTimestamp: tp->offset = start.n; break;
      case StartOffset::kAbsolute:
      case StartOffset::kFromEnd: {
        const Watermarks w = client.watermarks(o.topic, p);
        const int64_t want = start.kind == StartOffset::kAbsolute ? start.n : w.high - start.n;
        tp->offset = std::clamp(want, w.low, w.high);
        break;
      }
    }
  }
  if (start.kind == StartOffset::kTimestamp) {
    // ListOffsets by timestamp: the first offset with timestamp >= ts, or -1
    // past the end (then start at the end, waiting for newer records).
    const auto err = rd_kafka_offsets_for_times(client.get(), list.get(), client.timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) fail("cannot look up offsets for timestamp: " + error_text(err));
    for (int i = 0; i < list->cnt; ++i) {
      auto& tp = list->elems[i];
      if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail("cannot look up offset for timestamp in " + o.topic + "/" + std::to_string(tp.partition) + ": " +
             error_text(tp.err));
      }
      if (tp.offset < 0) tp.offset = RD_KAFKA_OFFSET_END;
    }
  }
  return list;
}

RecordView view_of(const rd_kafka_message_t& msg, std::string_view topic) {
  RecordView r;
  r.topic = topic;
  r.partition = msg.partition;
  r.offset = msg.offset;
  rd_kafka_timestamp_type_t type;
  r.timestamp = rd_kafka_message_timestamp(&msg, &type);
  if (msg.key != nullptr) r.key = std::string_view(static_cast<const char*>(msg.key), msg.key_len);
  if (msg.payload != nullptr) r.value = std::string_view(static_cast<const char*>(msg.payload), msg.len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      std::optional<std::string_view> v;
      if (value != nullptr) v = std::string_view(static_cast<const char*>(value), size);
      r.headers.emplace_back(name, v);
    }
  }
  return r;
}

void run_consume(ConsumeOptions& o) {
  const StartOffset start = parse_start_offset(o.offset);
  const bool json = o.format == "json";
  std::optional<RecordTemplate> tmpl;
  if (!json) tmpl.emplace(o.format);
  const bool group_mode = !o.group.empty();
  if (group_mode && start.kind != StartOffset::kEarliest && start.kind != StartOffset::kLatest) {
    usage_error(
        "with --group, --offset can only be earliest or latest (where to start without a committed "
        "offset); use --partitions, or `runnel group reset-offsets`");
  }

  std::vector<std::pair<std::string, std::string>> props{{"enable.partition.eof", o.exit_at_end ? "true" : "false"}};
  if (group_mode) {
    props.insert(props.end(), {{"group.id", o.group},
                               {"auto.offset.reset", start.kind == StartOffset::kLatest ? "latest" : "earliest"},
                               // Store offsets only for records actually printed, so the
                               // committed position matches the output exactly (--num).
                               {"enable.auto.offset.store", "false"},
                               {"enable.auto.commit", "true"}});
  } else {
    // librdkafka's assign() needs a group.id even though nothing is joined
    // or committed: the id is only a label here.
    props.insert(
        props.end(),
        {{"group.id", "runnel-cli-reader"}, {"enable.auto.commit", "false"}, {"enable.auto.offset.store", "false"}});
  }
  KafkaClient client(o.client, RD_KAFKA_CONSUMER, props);
  rd_kafka_t* rk = client.get();
  MetadataPtr md = client.metadata();
  // From here on rd_kafka_consumer_poll() also serves error callbacks (lost
  // brokers); before, metadata() polls them itself.
  rd_kafka_poll_set_consumer(rk);
  const auto& topic = require_topic(*md, o.topic);
  std::vector<int> partitions = o.partitions;
  if (partitions.empty() && !group_mode) {
    for (int p = 0; p < topic.partition_cnt; ++p) partitions.push_back(p);
  }
  for (int p : partitions) {
    if (p < 0 || p >= topic.partition_cnt) {
      fail("topic '" + o.topic + "' has no partition " + std::to_string(p) + " (it has " +
           std::to_string(topic.partition_cnt) + ")");
    }
  }
  md.reset();

  if (group_mode) {
    PartitionListPtr subscription(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(subscription.get(), o.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (const auto err = rd_kafka_subscribe(rk, subscription.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("cannot subscribe to '" + o.topic + "': " + error_text(err));
    }
  } else {
    PartitionListPtr assignment = start_positions(client, o, partitions, start);
    if (const auto err = rd_kafka_assign(rk, assignment.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("cannot assign partitions of '" + o.topic + "': " + error_text(err));
    }
  }

  install_stop_handlers();
  std::set<int32_t> at_end;  // partitions whose end we reached since their last record
  int64_t printed = 0;
  std::string out;
  std::optional<CliError> failure;
  while (!g_stop && (o.num <= 0 || printed < o.num)) {
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(rk, 200);
    if (raw == nullptr) {
      if (client.all_brokers_down()) {
        failure.emplace(kExitUnreachable, "lost connection to broker at " + client.brokers());
        break;
      }
      continue;
    }
    std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> msg(raw, &rd_kafka_message_destroy);
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(msg->partition);
    } else if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Transport hiccups are retried by librdkafka; anything else (unknown
      // topic, authorization, group errors) ends the command.
      if (msg->err == RD_KAFKA_RESP_ERR__TRANSPORT) continue;
      failure.emplace(kExitFailed,
                      "consume failed: " + error_text(msg->err) + ": " + rd_kafka_message_errstr(msg.get()));
      break;
    } else {
      at_end.erase(msg->partition);
      out.clear();
      const RecordView record = view_of(*msg, o.topic);
      if (json) {
        render_record_json(record, out);
        out += '\n';
      } else {
        tmpl->render(record, out);
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
      ++printed;
      if (group_mode) {
        PartitionListPtr position(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(position.get(), o.topic.c_str(), msg->partition)->offset = msg->offset + 1;
        rd_kafka_offsets_store(rk, position.get());
      }
    }
    if (o.exit_at_end && !at_end.empty()) {
      rd_kafka_topic_partition_list_t* assigned = nullptr;
      bool all = false;
      if (rd_kafka_assignment(rk, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        all = assigned->cnt > 0;
        for (int i = 0; i < assigned->cnt; ++i) all = all && at_end.count(assigned->elems[i].partition) > 0;
        rd_kafka_topic_partition_list_destroy(assigned);
      }
      if (all) break;
    }
  }

  if (group_mode && !failure) {
    // Synchronous commit of what was printed; _NO_OFFSET = nothing new.
    const auto err = rd_kafka_commit(rk, nullptr, 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      failure.emplace(kExitFailed, "cannot commit offsets for group '" + o.group + "': " + error_text(err));
    }
  }
  if (failure) {
    client.skip_consumer_close();
    throw *failure;
  }
  if (group_mode) rd_kafka_consumer_close(rk);
}

}  // namespace

void add_consume_command(CLI::App& app) {
  auto o = std::make_shared<ConsumeOptions>();
  CLI::App* cmd = app.add_subcommand("consume", "Print records of a topic");
  add_client_options(cmd, o->client);
  cmd->add_option("topic", o->topic, "Topic to consume")->required();
  auto* group = cmd->add_option("-g,--group", o->group, "Consume as a member of this group and commit offsets");
  cmd->add_option("-p,--partitions", o->partitions, "Only these partitions, e.g. 0,2 (no group)")
      ->delimiter(',')
      ->excludes(group);
  cmd->add_option("-o,--offset", o->offset,
                  "Start at earliest, latest, N (offset), @TS (timestamp in ms) or -N (N before the end); "
                  "with --group only earliest/latest, used when the group has no committed offset")
      ->capture_default_str();
  cmd->add_option("-n,--num", o->num, "Stop after this many records")->check(CLI::PositiveNumber);
  cmd->add_option("-f,--format", o->format,
                  "'json' (one object per line) or a template: %t topic, %p partition, %o offset, %k key, "
                  "%s value, %h headers, %T timestamp, %K/%S key/value length; \\n \\t escapes")
      ->capture_default_str();
  cmd->add_flag("-e,--exit", o->exit_at_end, "Exit when the end of every partition has been reached");
  cmd->callback([o] { run_command([&] { run_consume(*o); }); });
}

}  // namespace runnel::cli

// `runnel produce TOPIC`: one record per line of stdin.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/kafka_client.h"
#include "cli/record_format.h"
#include "cli/table.h"

namespace runnel::cli {
namespace {

struct ProduceOptions {
  ClientOptions client;
  OutputFormat format = OutputFormat::kTable;
  std::string topic;
  std::string key_separator;
  std::vector<std::string> headers;
  int partition = -1;
  std::string compression = "none";
  std::string acks = "all";
  std::string delivery_timeout = "30s";
};

struct PartitionStats {
  int64_t records = 0;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
};

// Filled by the delivery-report callback, which runs on this thread inside
// rd_kafka_poll()/rd_kafka_flush().
struct DeliveryStats {
  std::map<int32_t, PartitionStats> partitions;
  int64_t delivered = 0;
  int64_t failed = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* msg, void* /*opaque*/) {
  auto* stats = static_cast<DeliveryStats*>(msg->_private);
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (stats->failed++ == 0) stats->first_error = error_text(msg->err);
    return;
  }
  ++stats->delivered;
  auto& p = stats->partitions[msg->partition];
  ++p.records;
  if (p.first_offset < 0 || msg->offset < p.first_offset) p.first_offset = msg->offset;
  if (msg->offset > p.last_offset) p.last_offset = msg->offset;
}

// getline(3) rather than std::getline: binary-safe and fast for big inputs.
class LineReader {
 public:
  ~LineReader() { std::free(buf_); }
  bool next(std::string_view& line) {
    const ssize_t n = ::getline(&buf_, &cap_, stdin);
    if (n < 0) return false;
    line = std::string_view(buf_, static_cast<size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    return true;
  }

 private:
  char* buf_ = nullptr;
  size_t cap_ = 0;
};

void run_produce(ProduceOptions& o) {
  const std::string separator = unescape(o.key_separator);
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& h : o.headers) headers.push_back(split_assignment(h, "header"));
  const auto delivery_ms = parse_duration_ms(o.delivery_timeout);
  if (!delivery_ms || *delivery_ms < 1 || *delivery_ms > 3600 * 1000) {
    usage_error("invalid --delivery-timeout '" + o.delivery_timeout + "'");
  }

  DeliveryStats stats;
  KafkaClient client(o.client, RD_KAFKA_PRODUCER,
                     {{"acks", o.acks},
                      {"compression.codec", o.compression},
                      {"linger.ms", "5"},
                      {"message.timeout.ms", std::to_string(*delivery_ms)}},
                     [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, on_delivery); });
  MetadataPtr md = client.metadata();
  // Checking first gives "unknown topic" instead of silently auto-creating
  // it or timing out per record.
  const auto& topic = require_topic(*md, o.topic);
  if (o.partition >= topic.partition_cnt) {
    fail("topic '" + o.topic + "' has no partition " + std::to_string(o.partition) + " (it has " +
         std::to_string(topic.partition_cnt) + ")");
  }
  md.reset();

  rd_kafka_t* rk = client.get();
  LineReader reader;
  std::string_view line;
  int64_t sent = 0;
  while (reader.next(line)) {
    std::optional<std::string_view> key;
    std::string_view value = line;
    if (!separator.empty()) {
      if (const auto pos = line.find(separator); pos != std::string_view::npos) {
        key = line.substr(0, pos);
        value = line.substr(pos + separator.size());
      }
    }
    for (;;) {
      HeadersPtr hdrs;
      if (!headers.empty()) {
        hdrs.reset(rd_kafka_headers_new(headers.size()));
        for (const auto& [k, v] : headers) {
          rd_kafka_header_add(hdrs.get(), k.data(), static_cast<ssize_t>(k.size()), v.data(),
                              static_cast<ssize_t>(v.size()));
        }
      }
      void* key_data = key ? const_cast<char*>(key->data()) : nullptr;
      const size_t key_size = key ? key->size() : 0;
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(o.partition), RD_KAFKA_V_KEY(key_data, key_size),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_HEADERS(hdrs.get()), RD_KAFKA_V_OPAQUE(&stats), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        (void)hdrs.release();  // owned by the message now
        ++sent;
        break;
      }
      // Back-pressure: let deliveries drain, then retry the same line.
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 100);
        continue;
      }
      fail("cannot produce to '" + o.topic + "': " + error_text(err));
    }
    rd_kafka_poll(rk, 0);
  }
  if (std::ferror(stdin)) fail("error reading stdin");

  // Every message either gets delivered or times out (message.timeout.ms),
  // so this wait is bounded; the margin only guards against surprises.
  rd_kafka_flush(rk, static_cast<int>(*delivery_ms) + 5000);
  if (const int left = rd_kafka_outq_len(rk); left > 0) {
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 0);
  }
  if (stats.failed > 0 || stats.delivered != sent) {
    fail(std::to_string(sent - stats.delivered) + " of " + std::to_string(sent) + " records were not delivered to '" +
         o.topic + "': " + (stats.first_error.empty() ? "delivery timed out" : stats.first_error));
  }

  if (o.format == OutputFormat::kJson) {
    JsonWriter json;
    json.begin_object().field("topic", o.topic).field("records", stats.delivered).key("partitions").begin_array();
    for (const auto& [p, s] : stats.partitions) {
      json.begin_object()
          .field("partition", p)
          .field("records", s.records)
          .field("first_offset", s.first_offset)
          .field("last_offset", s.last_offset)
          .end_object();
    }
    json.end_array().end_object().print();
  } else if (!stats.partitions.empty()) {
    Table table({"PARTITION", "RECORDS", "FIRST-OFFSET", "LAST-OFFSET"});
    for (const auto& [p, s] : stats.partitions) {
      table.add_row({std::to_string(p), std::to_string(s.records), std::to_string(s.first_offset),
                     std::to_string(s.last_offset)});
    }
    table.print();
  }
}

}  // namespace

void add_produce_command(CLI::App& app) {
  auto o = std::make_shared<ProduceOptions>();
  CLI::App* cmd = app.add_subcommand("produce", "Produce one record per line of stdin");
  add_client_options(cmd, o->client);
  add_format_option(cmd, o->format);
  cmd->add_option("topic", o->topic, "Topic to produce to")->required();
  cmd->add_option("-k,--key-separator", o->key_separator,
                  "Split each line at the first SEP into key and value (escapes like \\t allowed); "
                  "lines without SEP get no key");
  cmd->add_option("-H,--header", o->headers, "Header key=value added to every record (repeatable)");
  cmd->add_option("-p,--partition", o->partition, "Produce to this partition (default: the partitioner decides)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-z,--compression", o->compression, "none, gzip, snappy, lz4 or zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))
      ->capture_default_str();
  cmd->add_option("--acks", o->acks, "all (-1), 1 or 0")
      ->check(CLI::IsMember({"all", "-1", "0", "1"}))
      ->capture_default_str();
  cmd->add_option("--delivery-timeout", o->delivery_timeout, "Give up on a record not acknowledged within this time")
      ->capture_default_str();
  cmd->callback([o] { run_command([&] { run_produce(*o); }); });
}

}  // namespace runnel::cli

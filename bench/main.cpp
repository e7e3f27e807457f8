// runnel-bench: drives Runnel, librdkafka's mock cluster, Redis Streams and
// NATS JetStream through the same workloads and reports throughput, latency
// percentiles and the broker's CPU time and peak RSS. See bench/README.md.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "driver.h"
#include "idle_connections.h"
#include "mock_cluster.h"
#include "process_stats.h"
#include "workloads.h"

using namespace runnel::bench;

namespace {

struct Reporting {
  pid_t broker_pid = 0;
  std::string label;
  bool json = false;
};

void add_driver_options(CLI::App* app, DriverOptions& o, Reporting& r) {
  app->add_option("--system", o.system, "kafka | redis | nats")->check(CLI::IsMember({"kafka", "redis", "nats"}));
  app->add_option("-b,--bootstrap", o.bootstrap, "host:port of the system under test");
  app->add_option("-t,--topic", o.topic, "topic (Redis: stream key prefix; NATS: subject prefix and stream)");
  app->add_option("-p,--partitions", o.partitions, "partitions (Redis: stream keys; NATS: subjects)");
  app->add_option("--replication-factor", o.replication_factor, "Kafka: replicas of the topic created in setup");
  app->add_option("--acks", o.acks, "Kafka acks: -1 (all), 0, 1");
  app->add_option("--linger-ms", o.linger_ms, "Kafka linger.ms");
  app->add_option("--batch-size", o.batch_size, "Kafka batch.size in bytes");
  app->add_option("--compression", o.compression, "Kafka compression.type")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  app->add_flag("--keys", o.keys, "send a key with every record");
  app->add_flag("!--no-create", o.create_topic, "do not create the topic/stream (e.g. the mock cluster)");
  app->add_option("--fetch-wait-ms", o.fetch_wait_ms, "Kafka fetch.wait.max.ms");
  app->add_option("--window", o.window, "Redis/NATS: publishes in flight before waiting for acks");
  app->add_option("--group", o.group, "consumer group");
  app->add_option("--broker-pid", r.broker_pid, "pid of the broker, for its CPU seconds and peak RSS");
  app->add_option("--label", r.label, "name of this run in the output");
  app->add_flag("--json", r.json, "print one line of JSON instead of text");
}

template <typename Run>
int measured(const Reporting& r, Run&& run) {
  const auto before = sample_process(r.broker_pid);
  RunResult result = run();
  const auto after = sample_process(r.broker_pid);
  BrokerUsage broker;
  if (before && after) {
    broker = {true, after->user_seconds - before->user_seconds, after->system_seconds - before->system_seconds,
              after->peak_rss_kb};
  }
  const std::string label = r.label.empty() ? result.workload : r.label;
  std::cout << (r.json ? to_json(result, label, broker) + "\n" : to_text(result, label, broker)) << std::flush;
  return result.records > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"runnel-bench: throughput and latency of Runnel and its peers"};
  app.require_subcommand(1);
  DriverOptions options;
  Reporting reporting;

  ProduceSpec produce;
  auto* produce_cmd = app.add_subcommand("produce", "produce records; report records/s, MB/s and ack latency");
  add_driver_options(produce_cmd, options, reporting);
  produce_cmd->add_option("-n,--count", produce.count, "records");
  produce_cmd->add_option("-s,--size", produce.size, "bytes per record");
  produce_cmd->add_option("--rate", produce.rate, "records/s (0 = as fast as possible)");
  produce_cmd->add_option("--max-in-flight", produce.max_in_flight,
                          "records sent and not yet acknowledged before waiting for acks (0: the client's queue limit)");

  ConsumeSpec consume;
  auto* consume_cmd = app.add_subcommand("consume", "consume from the start; report records/s and MB/s");
  add_driver_options(consume_cmd, options, reporting);
  consume_cmd->add_option("-n,--count", consume.count, "records to read");
  consume_cmd->add_option("--idle-timeout-ms", consume.idle_timeout_ms, "stop when nothing arrives for this long");

  E2eSpec e2e;
  auto* e2e_cmd = app.add_subcommand("e2e", "produce at a fixed rate while consuming; report end-to-end latency");
  add_driver_options(e2e_cmd, options, reporting);
  e2e_cmd->add_option("-n,--count", e2e.count, "measured records (after the warm-up)");
  e2e_cmd->add_option("-s,--size", e2e.size, "bytes per record (at least 16)");
  e2e_cmd->add_option("--rate", e2e.rate, "records/s");
  e2e_cmd->add_option("--warmup", e2e.warmup_seconds, "seconds of records sent first and not measured");

  int brokers = 1;
  std::vector<std::string> mock_topics;
  auto* mock_cmd = app.add_subcommand("mock", "run librdkafka's mock cluster; prints its bootstrap servers");
  mock_cmd->add_option("--brokers", brokers, "mock brokers");
  mock_cmd->add_option("--topic", mock_topics, "name:partitions, repeatable");

  int connections = 1000;
  double idle_seconds = 10;
  std::string protocol = "kafka";
  auto* idle_cmd = app.add_subcommand("idle", "create a topic, open idle connections; report broker CPU and RSS");
  add_driver_options(idle_cmd, options, reporting);
  idle_cmd->add_option("--connections", connections, "idle connections to open");
  idle_cmd->add_option("--seconds", idle_seconds, "how long to measure the idle broker");
  idle_cmd->add_option("--protocol", protocol, "kafka | nats | tcp (what each connection sends first)");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*produce_cmd) return measured(reporting, [&] { return run_produce(options, produce); });
    if (*consume_cmd) return measured(reporting, [&] { return run_consume(options, consume); });
    if (*e2e_cmd) return measured(reporting, [&] { return run_e2e(options, e2e); });
    if (*mock_cmd) {
      std::vector<std::pair<std::string, int>> topics;
      for (const auto& spec : mock_topics) {
        const auto colon = spec.rfind(':');
        topics.emplace_back(spec.substr(0, colon), colon == std::string::npos ? 1 : std::stoi(spec.substr(colon + 1)));
      }
      return run_mock_cluster(brokers, topics);
    }
    if (*idle_cmd) {
      using Clock = std::chrono::steady_clock;
      const auto start = Clock::now();
      if (options.system == "kafka" && options.create_topic && options.partitions > 0) make_producer(options)->setup();
      const double create_seconds = std::chrono::duration<double>(Clock::now() - start).count();
      auto fds = open_idle_connections(options.bootstrap, connections, protocol);
      std::this_thread::sleep_for(std::chrono::seconds(1));  // let the broker settle
      const auto before = sample_process(reporting.broker_pid);
      std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
      const auto after = sample_process(reporting.broker_pid);
      close_connections(fds);
      const double cpu = before && after ? after->cpu_seconds() - before->cpu_seconds() : -1;
      const double rss_mb = after ? static_cast<double>(after->rss_kb) / 1024.0 : 0;
      const double peak_mb = after ? static_cast<double>(after->peak_rss_kb) / 1024.0 : 0;
      const std::string label = reporting.label.empty() ? "idle" : reporting.label;
      if (reporting.json) {
        std::cout << fmt::format(
            R"({{"label":"{}","workload":"idle","partitions":{},"connections":{},"create_seconds":{:.3f},)"
            R"("idle_seconds":{:.1f},"idle_cpu_pct":{:.3f},"broker_rss_mb":{:.1f},"broker_peak_rss_mb":{:.1f}}})",
            label, options.partitions, connections, create_seconds, idle_seconds, cpu / idle_seconds * 100.0, rss_mb,
            peak_mb) << "\n";
      } else {
        std::cout << fmt::format("{}: {} partitions (created in {:.2f} s), {} idle connections: {:.2f}% of a core, "
                                 "RSS {:.1f} MiB (peak {:.1f} MiB)\n",
                                 label, options.partitions, create_seconds, connections,
                                 cpu / idle_seconds * 100.0, rss_mb, peak_mb);
      }
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runnel-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

#include "workloads.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace runnel::bench {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Payload: [send time ns][sequence] then filler.
void stamp(std::string& payload, uint64_t sequence) {
  const uint64_t t = now_ns();
  if (payload.size() >= 16) {
    std::memcpy(payload.data(), &t, 8);
    std::memcpy(payload.data() + 8, &sequence, 8);
  }
}

std::string filler(std::size_t size) {
  std::string payload(size, 'x');
  for (std::size_t i = 16; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  return payload;
}

}  // namespace

RunResult run_produce(const DriverOptions& options, const ProduceSpec& spec) {
  RunResult result;
  result.workload = "produce";
  auto producer = make_producer(options);
  const auto setup_start = Clock::now();
  producer->setup();
  result.setup_seconds = since(setup_start);

  std::vector<uint64_t> sent_at(spec.count);  // allocated (and touched) up front
  std::fill(sent_at.begin(), sent_at.end(), 0);
  uint64_t acked = 0;
  uint64_t last_ack = 0;
  producer->on_ack([&](uint64_t tag, bool ok) {
    const uint64_t t = now_ns();
    if (tag < sent_at.size()) result.ack_ns.record(t - sent_at[tag]);
    if (!ok) ++result.failed;
    ++acked;
    last_ack = t;
  });

  std::string payload = filler(spec.size);
  char key[24];
  const auto start = Clock::now();
  const uint64_t start_ns = now_ns();
  for (uint64_t i = 0; i < spec.count; ++i) {
    if (spec.rate > 0) {
      const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * 1e9 / spec.rate));
      while (Clock::now() < due) producer->poll(0);
    }
    while (spec.max_in_flight > 0 && i - acked >= spec.max_in_flight) producer->poll(1);
    stamp(payload, i);
    sent_at[i] = now_ns();
    std::string_view key_view;
    if (options.keys) key_view = std::string_view(key, static_cast<std::size_t>(std::snprintf(key, sizeof key, "k%llu", static_cast<unsigned long long>(i % 100000))));
    producer->send(key_view, payload, i);
  }
  producer->flush();
  result.records = acked;
  result.bytes = acked * spec.size;
  result.seconds = static_cast<double>((last_ack ? last_ack : now_ns()) - start_ns) / 1e9;
  return result;
}

RunResult run_consume(const DriverOptions& options, const ConsumeSpec& spec) {
  RunResult result;
  result.workload = "consume";
  auto consumer = make_consumer(options);
  const auto setup_start = Clock::now();
  consumer->start(true);
  Clock::time_point first{};
  Clock::time_point last = Clock::now();
  uint64_t count = 0, bytes = 0;
  while (count < spec.count) {
    const std::size_t n = consumer->poll(100, [&](std::string_view value) {
      if (count == 0) first = Clock::now();
      ++count;
      bytes += value.size();
    });
    if (n > 0) {
      last = Clock::now();
    } else if (Clock::now() - last > std::chrono::milliseconds(spec.idle_timeout_ms)) {
      break;
    }
  }
  result.records = count;
  result.bytes = bytes;
  if (count > 0) {
    result.setup_seconds = std::chrono::duration<double>(first - setup_start).count();
    result.seconds = std::chrono::duration<double>(last - first).count();
  }
  return result;
}

RunResult run_e2e(const DriverOptions& options, const E2eSpec& spec) {
  RunResult result;
  result.workload = "e2e";
  if (spec.size < 16) throw std::invalid_argument("e2e records need at least 16 bytes");
  const uint64_t warmup = static_cast<uint64_t>(spec.rate * spec.warmup_seconds);
  const uint64_t total = spec.count + warmup;

  auto producer = make_producer(options);
  const auto setup_start = Clock::now();
  producer->setup();
  auto consumer = make_consumer(options);
  consumer->start(true);
  std::atomic<bool> ready{false};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  LatencyHistogram e2e;
  std::thread reader([&] {
    while (!stop.load() && received.load() < total) {
      consumer->poll(10, [&](std::string_view value) {
        const uint64_t t = now_ns();
        uint64_t sent = 0, sequence = 0;
        if (value.size() < 16) return;
        std::memcpy(&sent, value.data(), 8);
        std::memcpy(&sequence, value.data() + 8, 8);
        if (sequence >= warmup) e2e.record(t - sent);
        ++received;
      });
      if (!ready.load() && consumer->ready()) ready.store(true);
    }
  });
  const auto ready_deadline = Clock::now() + std::chrono::seconds(60);
  while (!ready.load() && Clock::now() < ready_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  result.setup_seconds = since(setup_start);

  LatencyHistogram& acks = result.ack_ns;
  std::vector<uint64_t> sent_at(total, 0);
  producer->on_ack([&](uint64_t tag, bool ok) {
    if (tag >= warmup && tag < sent_at.size()) acks.record(now_ns() - sent_at[tag]);
    if (!ok) ++result.failed;
  });
  std::string payload = filler(spec.size);
  const auto start = Clock::now();
  for (uint64_t i = 0; i < total; ++i) {
    const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * 1e9 / spec.rate));
    while (Clock::now() < due) {
      producer->poll(0);
      if (due - Clock::now() > std::chrono::microseconds(200)) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    stamp(payload, i);
    sent_at[i] = now_ns();
    producer->send({}, payload, i);
    producer->poll(0);
  }
  producer->flush();
  const auto produced = Clock::now();
  const auto wait_deadline = produced + std::chrono::milliseconds(spec.idle_timeout_ms);
  while (received.load() < total && Clock::now() < wait_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop.store(true);
  reader.join();
  result.e2e_ns = e2e;
  result.records = e2e.count();
  result.bytes = result.records * spec.size;
  result.seconds = std::chrono::duration<double>(produced - start).count();
  return result;
}

namespace {

std::string latency_fields(const char* name, const LatencyHistogram& h) {
  return fmt::format(R"("{0}_p50_ms":{1:.3f},"{0}_p99_ms":{2:.3f},"{0}_p999_ms":{3:.3f},"{0}_max_ms":{4:.3f})", name,
                     static_cast<double>(h.percentile(0.50)) / 1e6, static_cast<double>(h.percentile(0.99)) / 1e6,
                     static_cast<double>(h.percentile(0.999)) / 1e6, static_cast<double>(h.max()) / 1e6);
}

std::string broker_fields(const BrokerUsage& b) {
  if (!b.known) return R"("broker_cpu_s":-1,"broker_user_s":-1,"broker_sys_s":-1,"broker_peak_rss_mb":0)";
  return fmt::format(R"("broker_cpu_s":{:.3f},"broker_user_s":{:.3f},"broker_sys_s":{:.3f},"broker_peak_rss_mb":{:.1f})",
                     b.cpu_seconds(), b.user_seconds, b.system_seconds,
                     static_cast<double>(b.peak_rss_kb) / 1024.0);
}

}  // namespace

std::string to_json(const RunResult& r, const std::string& label, const BrokerUsage& broker) {
  const double rate = r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
  const double mbps = r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / 1e6 : 0;
  return fmt::format(
      R"({{"label":"{}","workload":"{}","records":{},"failed":{},"bytes":{},"seconds":{:.4f},"setup_seconds":{:.3f},)"
      R"("records_per_s":{:.1f},"mb_per_s":{:.2f},{},{},{}}})",
      label, r.workload, r.records, r.failed, r.bytes, r.seconds, r.setup_seconds, rate, mbps,
      latency_fields("ack", r.ack_ns), latency_fields("e2e", r.e2e_ns), broker_fields(broker));
}

std::string to_text(const RunResult& r, const std::string& label, const BrokerUsage& broker) {
  const double rate = r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
  const double mbps = r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / 1e6 : 0;
  auto lat = [](const LatencyHistogram& h) {
    return fmt::format("p50 {:.2f} p99 {:.2f} p99.9 {:.2f} max {:.2f} ms", static_cast<double>(h.percentile(0.5)) / 1e6,
                       static_cast<double>(h.percentile(0.99)) / 1e6, static_cast<double>(h.percentile(0.999)) / 1e6,
                       static_cast<double>(h.max()) / 1e6);
  };
  std::string text = fmt::format("{} {}: {} records ({} failed) in {:.3f} s: {:.0f} records/s, {:.2f} MB/s\n", label,
                                 r.workload, r.records, r.failed, r.seconds, rate, mbps);
  if (r.ack_ns.count()) text += "  produce-ack latency: " + lat(r.ack_ns) + "\n";
  if (r.e2e_ns.count()) text += "  end-to-end latency:  " + lat(r.e2e_ns) + "\n";
  if (broker.known) {
    text += fmt::format("  broker: {:.3f} CPU s (user {:.3f}, system {:.3f}), peak RSS {:.1f} MiB\n",
                        broker.cpu_seconds(), broker.user_seconds, broker.system_seconds,
                        static_cast<double>(broker.peak_rss_kb) / 1024.0);
  }
  return text;
}

}  // namespace runnel::bench

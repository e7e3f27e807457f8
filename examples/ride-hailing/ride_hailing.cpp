// Ride hailing, the classic design exercise, on a log with offsets:
//
//   fleet ──> driver-locations (6 partitions, keyed by driver id)
//                ├── live-map   reads every update as it arrives
//                ├── pricing    reads every update too, but slower: its lag grows, then recovers
//                └── analytics  joins late and replays everything still retained
//
// Every few seconds it prints each group's committed position and lag per
// partition, side by side; at the end, a report that all three groups reached
// the end offset with zero lag and saw each driver's updates in order.
// Exit 0 when that holds, 1 when it does not, 2 for bad usage.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client_config.h"
#include "fleet.h"
#include "group_reader.h"
#include "positions.h"

namespace {

struct Options {
  std::string brokers = std::getenv("RUNNEL_BROKERS") ? std::getenv("RUNNEL_BROKERS") : "localhost:9092";
  std::string topic = "driver-locations";
  int partitions = 6;
  int drivers = 12;
  double rate = 40;       // events per second from the fleet
  double duration = 40;   // seconds the whole scenario is planned to take
  double interval = 2;    // seconds between position tables
};

void usage(FILE* out) {
  std::fprintf(out,
               "usage: ride_hailing [-b BROKERS] [--topic NAME] [--partitions N] [--drivers N]\n"
               "                    [--rate EVENTS_PER_S] [--duration SECONDS] [--interval SECONDS]\n"
               "Runs the ride-hailing walkthrough against a Kafka-compatible broker\n"
               "(default $RUNNEL_BROKERS or localhost:9092) in about --duration seconds (default 40).\n");
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    char* end = nullptr;
    const double number = std::strtod(value, &end);
    const bool numeric = end != value && *end == '\0' && number > 0;
    if (arg == "-b" || arg == "--brokers") {
      o.brokers = value;
    } else if (arg == "--topic") {
      o.topic = value;
    } else if (arg == "--partitions" && numeric) {
      o.partitions = static_cast<int>(number);
    } else if (arg == "--drivers" && numeric) {
      o.drivers = static_cast<int>(number);
    } else if (arg == "--rate" && numeric) {
      o.rate = number;
    } else if (arg == "--duration" && numeric && number >= 4) {
      o.duration = number;
    } else if (arg == "--interval" && numeric) {
      o.interval = number;
    } else {
      return false;
    }
  }
  return true;
}

// Creates the topic unless it exists. "" or an error.
std::string ensure_topic(const Options& o) {
  std::string failure;
  rd_kafka_t* rk = ride::make_client(RD_KAFKA_PRODUCER, ride::make_conf({{"bootstrap.servers", o.brokers}}, &failure), &failure);
  if (rk == nullptr) return failure;
  char errstr[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, 1, errstr, sizeof errstr);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &topic, 1, nullptr, queue);
  rd_kafka_NewTopic_destroy(topic);
  std::string error = "no answer to CreateTopics from " + o.brokers + " within 15 s";
  if (rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000)) {
    error.clear();
    if (rd_kafka_event_error(event)) {
      error = rd_kafka_event_error_string(event);
    } else if (const auto* result = rd_kafka_event_CreateTopics_result(event)) {
      size_t count = 0;
      const auto** topics = rd_kafka_CreateTopics_result_topics(result, &count);
      for (size_t i = 0; i < count; ++i) {
        const auto err = rd_kafka_topic_result_error(topics[i]);
        if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          std::printf("topic %s exists already: its retained events are part of the replay\n", o.topic.c_str());
        } else if (err) {
          error = rd_kafka_topic_result_error_string(topics[i]);
        }
      }
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
  return error;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    usage(stderr);
    return 2;
  }
  // The plan: the fleet drives for 60% of the time; pricing runs at 70% of
  // the fleet's rate, so it falls behind, then catches up once the fleet
  // stops; analytics joins at 35% and replays from the beginning.
  const double produce_for = 0.6 * o.duration;
  const double analytics_at = 0.35 * o.duration;
  const std::vector<std::string> groups = {"live-map", "pricing", "analytics"};
  const auto run_id = std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);

  if (const auto error = ensure_topic(o); !error.empty()) {
    std::fprintf(stderr, "ride_hailing: cannot create topic %s: %s\n", o.topic.c_str(), error.c_str());
    return 1;
  }
  ride::PositionTracker tracker(o.brokers, o.topic, groups);
  if (!tracker.start()) {
    std::fprintf(stderr, "ride_hailing: %s\n", tracker.error().c_str());
    return 1;
  }
  std::printf("ride hailing on %s: topic %s (%d partitions), %d drivers at %.0f events/s for %.0f s\n"
              "groups: live-map (full speed), pricing (%.0f events/s), analytics (joins at %.0f s, replays from the start)\n\n",
              o.brokers.c_str(), o.topic.c_str(), tracker.partitions(), o.drivers, o.rate, produce_for, 0.7 * o.rate,
              analytics_at);
  std::fflush(stdout);

  const auto start = std::chrono::steady_clock::now();
  ride::Fleet fleet({o.brokers, o.topic, run_id, o.drivers, o.rate,
                     std::chrono::milliseconds(static_cast<long>(produce_for * 1000))});
  ride::GroupReader live_map({o.brokers, o.topic, "live-map", 0, false});
  ride::GroupReader pricing({o.brokers, o.topic, "pricing", 0.7 * o.rate, false});
  ride::GroupReader analytics({o.brokers, o.topic, "analytics", 0, true});
  if (!fleet.start() || !live_map.start() || !pricing.start()) {
    std::fprintf(stderr, "ride_hailing: cannot start clients: %s%s%s\n", fleet.error().c_str(), live_map.error().c_str(),
                 pricing.error().c_str());
    return 1;
  }

  // Bounded: whatever happens, the run ends by twice the planned duration.
  const double give_up_at = 2 * o.duration;
  bool analytics_started = false;
  double next_report = o.interval;
  ride::Positions positions;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const double now = seconds_since(start);
    if (!analytics_started && now >= analytics_at) {
      if (!analytics.start()) {
        std::fprintf(stderr, "ride_hailing: cannot start analytics: %s\n", analytics.error().c_str());
        return 1;
      }
      analytics_started = true;
      std::printf("[%5.1fs] analytics joins late and replays the log from the beginning\n", now);
    }
    const bool finished = fleet.done() && analytics_started;
    if (now >= next_report || finished) {
      positions = tracker.query();
      if (now >= next_report) {
        std::printf("[%5.1fs] fleet: %ld events sent%s\n%s\n", now, fleet.produced(), fleet.done() ? " (done)" : "",
                    ride::render_positions(positions, groups).c_str());
        std::fflush(stdout);
        next_report = now + o.interval;
      }
      if (finished && positions.all_caught_up()) break;
    }
    if (now >= give_up_at) break;
  }

  fleet.join();
  live_map.stop();
  pricing.stop();
  analytics.stop();
  positions = tracker.query();
  const double took = seconds_since(start);
  std::printf("== final report after %.1f s ==\n%s\n", took, ride::render_positions(positions, groups).c_str());
  bool ok = fleet.failed() == 0 && positions.all_caught_up();
  for (const ride::GroupReader* reader : {&live_map, &pricing, &analytics}) {
    const int64_t lag = positions.lag.at(reader->group());
    std::printf("%-9s read %6ld events, lag %lld, %zu drivers, %ld out-of-order updates\n", reader->group().c_str(),
                reader->events(), static_cast<long long>(lag), reader->drivers_seen(), reader->order_violations());
    ok = ok && lag == 0 && reader->order_violations() == 0;
  }
  int64_t retained = 0;
  for (const int64_t end : positions.end) retained += end;
  std::printf("fleet     sent %6ld events (%ld failed); analytics replayed %ld of the %lld events in the log\n",
              fleet.produced(), fleet.failed(), analytics.events(), static_cast<long long>(retained));
  ok = ok && analytics.events() >= fleet.produced();
  if (ok) {
    std::printf("RESULT: all three groups are at the end offset with zero lag\n");
    return 0;
  }
  std::printf("RESULT: NOT caught up within %.0f s (see the table above)\n", give_up_at);
  return 1;
}

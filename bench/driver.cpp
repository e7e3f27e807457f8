#include "driver.h"

#include <stdexcept>

namespace runnel::bench {

#ifndef RUNNEL_BENCH_HIREDIS
std::unique_ptr<Producer> make_redis_producer(const DriverOptions&) {
  throw std::runtime_error("runnel-bench was built without hiredis (install libhiredis-dev and rebuild)");
}
std::unique_ptr<Consumer> make_redis_consumer(const DriverOptions&) {
  throw std::runtime_error("runnel-bench was built without hiredis (install libhiredis-dev and rebuild)");
}
#endif

std::unique_ptr<Producer> make_producer(const DriverOptions& options) {
  if (options.system == "kafka") return make_kafka_producer(options);
  if (options.system == "redis") return make_redis_producer(options);
  if (options.system == "nats") return make_nats_producer(options);
  throw std::invalid_argument("unknown system " + options.system);
}

std::unique_ptr<Consumer> make_consumer(const DriverOptions& options) {
  if (options.system == "kafka") return make_kafka_consumer(options);
  if (options.system == "redis") return make_redis_consumer(options);
  if (options.system == "nats") return make_nats_consumer(options);
  throw std::invalid_argument("unknown system " + options.system);
}

}  // namespace runnel::bench

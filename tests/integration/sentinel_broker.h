// A broker shared by one bad-input test suite, holding a "sentinel" topic of
// known records, plus the health check run after every bad-input case: the
// process is alive, a fresh connection still gets ApiVersions and Metadata
// answers, and the sentinel records are still readable intact.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "broker_process.h"
#include "test_record.h"

namespace runnel::it {

class SentinelBroker {
 public:
  static constexpr const char* kSentinelTopic = "sentinel";
  static constexpr int kSentinelRecords = 30;

  explicit SentinelBroker(std::vector<std::string> overrides);

  // Starts the broker and produces the sentinel records (gtest failures on error).
  bool start_and_seed();
  // If the broker has died (e.g. in the previous case), reports it and
  // restarts it on the same data. False if it cannot be brought back.
  bool ensure_running();
  // The health check; every problem is a gtest failure naming `after_what`.
  void expect_healthy(const std::string& after_what);
  // SIGTERM, expecting exit status 0.
  void finish();

  BrokerProcess& broker() { return *broker_; }
  static TestRecord SentinelRecord(std::uint64_t id);

 private:
  std::unique_ptr<BrokerProcess> broker_;
  bool seeded_ = false;
};

}  // namespace runnel::it

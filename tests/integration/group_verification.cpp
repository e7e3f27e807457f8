#include "group_verification.h"

#include <sstream>

namespace runnel::it {

std::vector<std::string> GroupBrokerSettings(int partitions, std::vector<std::string> extra) {
  std::vector<std::string> settings = {"num.partitions=" + std::to_string(partitions),
                                       "group.min.session.timeout.ms=500", "group.initial.rebalance.delay.ms=0"};
  settings.insert(settings.end(), extra.begin(), extra.end());
  return settings;
}

std::string CheckExactlyOnceInOrder(const std::vector<Consumption>& consumed,
                                    const std::map<std::int32_t, std::int64_t>& from,
                                    const std::map<std::int32_t, std::int64_t>& to) {
  std::map<std::int32_t, std::vector<const Consumption*>> by_partition;
  for (const auto& c : consumed) by_partition[c.partition].push_back(&c);
  std::ostringstream problems;
  int count = 0;
  auto problem = [&](const std::string& text) {
    if (++count <= 5) problems << text << "\n";
  };
  for (const auto& [p, end] : to) {
    const std::int64_t start = from.count(p) ? from.at(p) : 0;
    const auto& seen = by_partition[p];
    if (static_cast<std::int64_t>(seen.size()) != end - start) {
      problem("partition " + std::to_string(p) + ": " + std::to_string(seen.size()) + " records delivered, expected " +
              std::to_string(end - start) + " (offsets " + std::to_string(start) + ".." + std::to_string(end) + ")");
    }
    std::int64_t expected = start;
    for (const auto* c : seen) {
      if (c->offset != expected) {
        problem("partition " + std::to_string(p) + ": offset " + std::to_string(c->offset) + " delivered where " +
                std::to_string(expected) + " was expected (member " + c->member + ")");
        break;
      }
      const std::string value = "p" + std::to_string(p) + "-" + std::to_string(c->offset);
      if (c->value != value) problem("partition " + std::to_string(p) + " offset " + std::to_string(c->offset) +
                                     ": value '" + c->value + "', expected '" + value + "'");
      ++expected;
    }
  }
  for (const auto& [p, seen] : by_partition) {
    if (!to.count(p)) problem("records from unexpected partition " + std::to_string(p));
  }
  if (count > 5) problems << "(" << count - 5 << " more)\n";
  return problems.str();
}

std::map<std::int32_t, std::int64_t> NextOffsets(const std::vector<Consumption>& consumed, int partitions) {
  auto result = Uniform(partitions, -1);
  for (const auto& c : consumed) result[c.partition] = std::max(result[c.partition], c.offset + 1);
  return result;
}

std::map<std::int32_t, std::int64_t> Uniform(int partitions, std::int64_t value) {
  std::map<std::int32_t, std::int64_t> result;
  for (int p = 0; p < partitions; ++p) result[p] = value;
  return result;
}

std::string Describe(const std::map<std::int32_t, std::int64_t>& offsets) {
  std::string text = "{";
  for (const auto& [p, o] : offsets) text += (text.size() > 1 ? ", " : "") + std::to_string(p) + ":" + std::to_string(o);
  return text + "}";
}

}  // namespace runnel::it

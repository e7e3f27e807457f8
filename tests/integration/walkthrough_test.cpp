// First contact (issue 9, acceptance 2 and 3): the ride-hailing example runs to
// completion against a broker and ends with all three groups at the end
// offset with zero lag; the README's five-minute tour, run line by line in a
// shell, works.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "broker_process.h"
#include "file_util.h"
#include "group_verification.h"
#include "subprocess.h"

namespace runnel::it {
namespace {

#ifdef RIDE_HAILING_BINARY
std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) parts.push_back(part);
  return parts;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    if (word != "|") words.push_back(word);
  }
  return words;
}

TEST(Walkthrough, RideHailingExampleEndsWithEveryGroupCaughtUp) {
  BrokerProcess broker({"group.initial.rebalance.delay.ms=0"});
  ASSERT_TRUE(broker.start());
  const auto started = std::chrono::steady_clock::now();
  // The default run is 40 s; CI runs a shortened one.
  const auto result = RunProcess({RIDE_HAILING_BINARY, "-b", broker.bootstrap(), "--duration", "12", "--interval", "2"},
                                 {"", "", std::chrono::seconds(90)});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(result.exit_code, 0) << result.out << "\n" << result.err;
  EXPECT_NE(result.out.find("RESULT: all three groups are at the end offset with zero lag"), std::string::npos)
      << result.out;

  // Totals rows: "total END | live-map-at lag | pricing-at lag | analytics-at lag".
  std::vector<std::vector<std::string>> totals;
  for (const auto& line : Split(result.out, '\n')) {
    if (line.rfind("total", 0) == 0) totals.push_back(Words(line));
  }
  ASSERT_GE(totals.size(), 2u) << result.out;
  const auto& last = totals.back();
  ASSERT_EQ(last.size(), 8u) << result.out;
  for (size_t group = 0; group < 3; ++group) {
    EXPECT_EQ(last[2 + 2 * group], last[1]) << "group " << group << " not at the end offset\n" << result.out;
    EXPECT_EQ(last[3 + 2 * group], "0") << "group " << group << " has lag\n" << result.out;
  }
  // Pricing is deliberately slower: its lag showed before it recovered.
  bool pricing_lagged = false;
  for (const auto& row : totals) {
    if (row.size() == 8 && row[5] != "-" && std::stol(row[5]) > 0) pricing_lagged = true;
  }
  EXPECT_TRUE(pricing_lagged) << result.out;
  EXPECT_NE(result.out.find("0 out-of-order updates"), std::string::npos) << result.out;
  std::printf("[walkthrough] ride-hailing --duration 12 took %.1f s\n", took);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}
#endif

// The first ```sh block after "## A five-minute tour" in README.md.
std::string ReadmeTour() {
  const auto readme = ReadWholeFile(std::string(RUNNEL_SOURCE_DIR) + "/README.md");
  const auto section = readme.find("\n## A five-minute tour");
  if (section == std::string::npos) return "";
  const auto open = readme.find("```sh\n", section);
  const auto close = open == std::string::npos ? open : readme.find("\n```", open + 6);
  if (close == std::string::npos) return "";
  return readme.substr(open + 6, close - open - 6 + 1);
}

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

TEST(Walkthrough, ReadmeTourWorksLineByLine) {
  const std::string tour = ReadmeTour();
  ASSERT_FALSE(tour.empty()) << "no ```sh block under '## A five-minute tour' in README.md";
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  // A checkout-like directory: the tour runs from the repo root, where
  // scripts/start.sh built build/src/cli/runnel.
  const std::string root = MakeTempDir("runnel-tour-");
  ASSERT_EQ(::mkdir((root + "/build").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/build/src").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/build/src/cli").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(RunnelBinaryPath().c_str(), (root + "/build/src/cli/runnel").c_str()), 0);
  // The tour talks to the default addresses; here they are the test broker's.
  std::string script = "set -euo pipefail\ncd '" + root + "'\nexport RUNNEL_BROKERS=" + broker.bootstrap() + "\n";
  script += ReplaceAll(ReplaceAll(tour, "localhost:9092", broker.bootstrap()), "localhost:9644",
                       "127.0.0.1:" + std::to_string(broker.http_port()));
  // -v echoes each line as it runs, like pasting into a terminal.
  const auto result = RunProcess({"/bin/bash", "-v", "-c", script}, {"", "", std::chrono::seconds(150)});
  EXPECT_EQ(result.exit_code, 0) << "stdout:\n" << result.out << "\nstderr (with the lines run):\n" << result.err;
  for (const char* expected : {"alice", "pickup", "runnel_topic_records_in_total{topic=\"rides\"} 4",
                               "runnel_consumer_group_lag{group=\"billing\""}) {
    EXPECT_NE(result.out.find(expected), std::string::npos) << expected << " missing from:\n" << result.out;
  }
  RemoveTree(root);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it

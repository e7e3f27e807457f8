// Options every client command shares (-b, --timeout, -X, -v, --format) and
// the wrapper that turns a command's outcome into an exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace runnel::cli {

struct ClientOptions {
  std::string brokers = "localhost:9092";
  std::string timeout = "5s";
  std::vector<std::string> properties;  // -X key=value, passed to librdkafka
  bool verbose = false;

  // --timeout in milliseconds; throws CliError(kExitUsage) if malformed.
  int timeout_ms() const;
};

enum class OutputFormat { kTable, kJson };

// Registers -b/--brokers (env RUNNEL_BROKERS), --timeout, -X and -v on `cmd`.
void add_client_options(CLI::App* cmd, ClientOptions& options);
// Registers --format table|json on `cmd`.
void add_format_option(CLI::App* cmd, OutputFormat& format);

// "5", "5s", "250ms", "1.5s", "2m" -> milliseconds; nullopt if malformed.
std::optional<std::int64_t> parse_duration_ms(const std::string& text);
// Splits "key=value" at the first '='; throws a usage error naming `what`
// if there is no '=' or the key is empty.
std::pair<std::string, std::string> split_assignment(const std::string& text, const std::string& what);

// Runs a command body: prints "runnel: <error>" (one line, stderr) for a
// CliError or any other exception and records the exit code.
void run_command(const std::function<void()>& body);
// Exit code of the client command that ran (0 if none ran).
int tool_exit_code();

// Per-item failures of a multi-item command (e.g. deleting three topics):
// each is reported on its own stderr line as it happens, and finish() makes
// the command exit 1 if any occurred.
class ItemErrors {
 public:
  void add(const std::string& message);
  bool any() const { return count_ > 0; }
  void finish() const;

 private:
  int count_ = 0;
};

}  // namespace runnel::cli

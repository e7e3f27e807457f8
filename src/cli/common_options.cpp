#include "cli/common_options.h"

#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>

#include "cli/exit_codes.h"

namespace runnel::cli {
namespace {
int g_exit_code = kExitOk;

// Errors are promised to be one line; broker messages occasionally are not.
// An empty message means the command already reported its errors.
void print_error(const char* message) {
  if (*message == '\0') return;
  std::string line = message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fflush(stdout);
  std::fprintf(stderr, "runnel: %s\n", line.c_str());
}
}  // namespace

int ClientOptions::timeout_ms() const {
  const auto ms = parse_duration_ms(timeout);
  if (!ms || *ms <= 0 || *ms > 3600 * 1000) {
    usage_error("invalid --timeout '" + timeout + "' (expected e.g. 5s, 500ms, 1m; up to 1h)");
  }
  return static_cast<int>(*ms);
}

void add_client_options(CLI::App* cmd, ClientOptions& options) {
  cmd->add_option("-b,--brokers", options.brokers, "Bootstrap brokers, host:port[,host:port...]")
      ->envname("RUNNEL_BROKERS")
      ->capture_default_str();
  cmd->add_option("--timeout", options.timeout, "How long to wait for the broker to answer (e.g. 5s, 500ms)")
      ->capture_default_str();
  cmd->add_option("-X,--property", options.properties,
                  "librdkafka client property key=value (repeatable), e.g. security.protocol=SSL");
  cmd->add_flag("-v,--verbose", options.verbose, "Show librdkafka log messages on stderr");
}

void add_format_option(CLI::App* cmd, OutputFormat& format) {
  static const std::map<std::string, OutputFormat> kFormats{{"table", OutputFormat::kTable},
                                                            {"json", OutputFormat::kJson}};
  cmd->add_option("--format", format, "Output format: table or json")
      ->transform(CLI::CheckedTransformer(kFormats, CLI::ignore_case))
      ->default_str("table");
}

std::optional<std::int64_t> parse_duration_ms(const std::string& text) {
  std::size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60000;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(number) || number < 0 || number > 1e12) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(number * scale));
}

std::pair<std::string, std::string> split_assignment(const std::string& text, const std::string& what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) usage_error("invalid " + what + " '" + text + "' (expected key=value)");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

void run_command(const std::function<void()>& body) {
  try {
    body();
    g_exit_code = kExitOk;
  } catch (const CliError& e) {
    print_error(e.what());
    g_exit_code = e.code();
  } catch (const std::exception& e) {
    print_error(e.what());
    g_exit_code = kExitFailed;
  }
  std::fflush(stdout);
}

int tool_exit_code() { return g_exit_code; }

void ItemErrors::add(const std::string& message) {
  print_error(message.c_str());
  ++count_;
}

void ItemErrors::finish() const {
  if (count_ > 0) throw CliError(kExitFailed, "");  // already reported
}

}  // namespace runnel::cli

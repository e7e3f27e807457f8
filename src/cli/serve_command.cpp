#include "cli/serve_command.h"

#include <cstdio>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/config.h"
#include "common/log_format.h"
#include "server/broker.h"

namespace runnel::cli {
namespace {

int exit_code = 0;

int run_serve(const ServeOptions& options) {
  auto logger = spdlog::stderr_color_mt("runnel");
  spdlog::set_default_logger(logger);
  const auto format = parse_log_format(options.log_format);
  if (!format) {
    std::fprintf(stderr, "runnel: invalid --log-format '%s': expected text or json\n", options.log_format.c_str());
    return 2;
  }
  apply_log_format(*format);
  const auto level = spdlog::level::from_str(options.log_level);
  if (level == spdlog::level::off && options.log_level != "off") {
    std::fprintf(stderr, "runnel: invalid --log-level '%s'\n", options.log_level.c_str());
    return 2;
  }
  spdlog::set_level(level);

  BrokerConfig config;
  try {
    ConfigLoader loader;
    if (!options.config_file.empty()) loader.load_file(options.config_file);
    for (const auto& assignment : options.overrides) loader.set_override(assignment);
    config = loader.build();
    for (const auto& warning : loader.warnings()) spdlog::warn("{}", warning);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "runnel: config error: %s\n", e.what());
    return 2;
  }
  try {
    server::Broker broker(config);
    broker.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runnel: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, ServeOptions& options) {
  auto* serve = app.add_subcommand("serve", "Run the broker in the foreground (stop with SIGTERM or Ctrl-C)");
  serve->add_option("-c,--config", options.config_file, "server.properties-style config file")->check(CLI::ExistingFile);
  serve->add_option("--set", options.overrides, "Override one setting: key=value (repeatable)");
  serve->add_option("--log-level", options.log_level, "trace, debug, info, warn, error")->capture_default_str();
  serve->add_option("--log-format", options.log_format, "text, or json (one JSON object per line)")->capture_default_str();
  serve->callback([&options] { exit_code = run_serve(options); });
}

int last_exit_code() { return exit_code; }

}  // namespace runnel::cli

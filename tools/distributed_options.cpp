#include "distributed_options.h"

#include <cstdlib>
#include <limits>

#include "cli_common.h"
#include "momu/core/error.h"

namespace momu::cli {

namespace {

constexpr int kMaxWorldSize = 65536;

// "ADDR:PORT" (an IPv6 address in brackets: "[::1]:29500") -> false when malformed.
bool split_master(const std::string& text, std::string& addr, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  addr = text.substr(0, colon);
  if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']')
    addr = addr.substr(1, addr.size() - 2);
  const std::string digits = text.substr(colon + 1);
  if (addr.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  port = std::stoi(digits);
  return port >= 1 && port <= 65535;
}

// A whole number in [min, max] from variable `name`; false when unset.
bool env_int(const char* name, int min, int max, int& out) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return false;
  const std::string s(v);
  if (s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(s) < min || std::stoi(s) > max) {
    throw ConfigError(std::string("$") + name + " must be a whole number in [" +
                      std::to_string(min) + ", " + std::to_string(max) + "], got '" + s + "'");
  }
  out = std::stoi(s);
  return true;
}

}  // namespace

void add_distributed_options(CLI::App* cmd, DistributedArgs& args) {
  const std::string group =
      "Data-parallel training (README, \"Training on several processes or machines\")";
  cmd->add_option("--world-size", args.world_size,
                  "number of training processes (default $WORLD_SIZE, else 1); train.batch_size is "
                  "each one's batch")
      ->check(CLI::Range(1, kMaxWorldSize))
      ->group(group);
  cmd->add_option(
         "--rank", args.rank,
         "this process's rank, 0 to world size - 1 (default $RANK); rank 0 writes the run folder")
      ->check(CLI::Range(0, kMaxWorldSize - 1))
      ->group(group);
  cmd->add_option("--master", args.master,
                  "ADDR:PORT of rank 0, the same on every rank (default $MASTER_ADDR:$MASTER_PORT, "
                  "else 127.0.0.1:29500)")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            std::string addr;
            int port = 0;
            return split_master(s, addr, port)
                       ? std::string()
                       : "expected ADDR:PORT with a port in [1, 65535], got '" + s + "'";
          },
          "ADDR:PORT"))
      ->group(group);
  cmd->add_option("--dist-timeout", args.timeout_s,
                  "seconds a rank waits for the others (rendezvous, each exchange) before it gives "
                  "up with an error (default 1800; a rank that closes its connection is noticed at "
                  "once)")
      ->check(finite_range(1.0, 86400.0))
      ->group(group);
}

DistributedConfig resolve_distributed(const DistributedArgs& args, const std::string& verb,
                                      std::string& device) {
  DistributedConfig c;
  if (args.world_size > 0) {
    c.world_size = args.world_size;
  } else {
    env_int("WORLD_SIZE", 1, kMaxWorldSize, c.world_size);
  }
  if (args.rank >= 0) {
    c.rank = args.rank;
  } else {
    env_int("RANK", 0, kMaxWorldSize - 1, c.rank);
  }
  if (!args.master.empty()) {
    split_master(args.master, c.master_addr, c.master_port);  // checked when parsed
  } else {
    if (const char* a = std::getenv("MASTER_ADDR"); a != nullptr && *a != '\0') c.master_addr = a;
    env_int("MASTER_PORT", 1, 65535, c.master_port);
  }
  if (args.timeout_s > 0) c.timeout_s = args.timeout_s;
  if (c.rank >= c.world_size) {
    throw CLI::ValidationError("--rank", verb + ": --rank (or $RANK) " + std::to_string(c.rank) +
                                             " must be below --world-size (or $WORLD_SIZE) " +
                                             std::to_string(c.world_size));
  }
  int local_rank = 0;
  if (env_int("LOCAL_RANK", 0, kMaxWorldSize - 1, local_rank) && device == "cuda") {
    device = "cuda:" + std::to_string(local_rank);
  }
  c.validate();
  return c;
}

LogSink rank_log(const LogSink& sink, const DistributedConfig& config) {
  if (config.rank == 0 || !sink) return sink;
  const std::string prefix = "rank " + std::to_string(config.rank) + ": ";
  return [sink, prefix](LogLevel level, const std::string& message) {
    if (level >= LogLevel::kWarning) sink(level, prefix + message);
  };
}

}  // namespace momu::cli

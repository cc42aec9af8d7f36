#include "train/distributed_config.h"

#include <cmath>

#include "momu/core/error.h"

namespace momu {

namespace {
constexpr int kMaxWorldSize = 65536;
}

void DistributedConfig::validate() const {
  if (world_size < 1 || world_size > kMaxWorldSize) {
    throw ConfigError("distributed: world_size must be in [1, " + std::to_string(kMaxWorldSize) +
                      "], got " + std::to_string(world_size));
  }
  if (rank < 0 || rank >= world_size) {
    throw ConfigError("distributed: rank must be in [0, world_size - 1] = [0, " +
                      std::to_string(world_size - 1) + "], got " + std::to_string(rank));
  }
  if (master_addr.empty()) throw ConfigError("distributed: master_addr is empty");
  if (master_port < 1 || master_port > 65535) {
    throw ConfigError("distributed: master_port must be in [1, 65535], got " +
                      std::to_string(master_port));
  }
  if (!std::isfinite(timeout_s) || timeout_s <= 0.0 || timeout_s > 7 * 86400.0) {
    throw ConfigError("distributed: timeout_s must be in (0, 604800] seconds");
  }
}

std::string DistributedConfig::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size);
}

}  // namespace momu

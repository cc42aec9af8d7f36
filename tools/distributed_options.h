// The data-parallel options of `momu train-vae` and `momu train-diffusion` (README, "Training on
// several processes or machines"): --world-size, --rank, --master, or torchrun's variables.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "momu/core/log.h"
#include "train/distributed_config.h"

namespace momu::cli {

struct DistributedArgs {
  int world_size = 0;  // 0: not given
  int rank = -1;       // -1: not given
  std::string master;  // ADDR:PORT; empty: not given
  double timeout_s = 0;  // 0: not given
};

// Adds the options (range-checked when the command line is parsed: exit 2 naming the option).
void add_distributed_options(CLI::App* cmd, DistributedArgs& args);

// The process's place in the run: each option given, else torchrun's variable (WORLD_SIZE, RANK,
// MASTER_ADDR, MASTER_PORT), else the single-process default. A bad variable is a ConfigError
// naming it; --rank not below the world size is a CLI::ValidationError (exit 2). With a device
// "cuda" and LOCAL_RANK set, `device` becomes "cuda:<LOCAL_RANK>".
DistributedConfig resolve_distributed(const DistributedArgs& args, const std::string& verb,
                                      std::string& device);

// The log of a rank: rank 0 (or a single process) logs as `sink` does; the others pass on only
// warnings and errors, starting with "rank R: " (rank 0 speaks for the run).
LogSink rank_log(const LogSink& sink, const DistributedConfig& config);

}  // namespace momu::cli

// Where a training process stands in a data-parallel run (README, "Training on several processes
// or machines"): `world_size` processes, this one of rank `rank`, meeting at rank 0's
// `master_addr`:`master_port` (torch.distributed's TCPStore) and averaging gradients over Gloo
// (NCCL on CUDA with a LibTorch that has it). world_size 1: a plain single-process run.
#pragma once

#include <string>

namespace momu {

struct DistributedConfig {
  int world_size = 1;
  int rank = 0;                           // 0 writes the run folder (metrics, checkpoints)
  std::string master_addr = "127.0.0.1";  // rank 0's address, the same on every rank
  int master_port = 29500;
  double timeout_s = 1800.0;  // waiting for the other ranks (rendezvous, collectives)

  bool distributed() const { return world_size > 1; }
  void validate() const;  // throws ConfigError naming the field
  // "rank 1 of 2": starts the messages of a distributed run.
  std::string describe() const;
};

}  // namespace momu

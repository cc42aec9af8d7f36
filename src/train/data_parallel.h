// Data-parallel training (private to src/train): the processes of a run form a group on
// torch.distributed's c10d (TCPStore rendezvous at rank 0's master address, Gloo on CPU, NCCL for
// CUDA tensors with a LibTorch that has it). TrainingRun broadcasts the initial weights from
// rank 0, averages every step's gradients and metrics over the group, and lets rank 0 alone write
// the run folder. c10d's headers stay in data_parallel.cpp.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "train/distributed_config.h"

namespace momu {

// The rows of a step's global batch one rank computes: [offset, offset + size) of `global` rows
// (global = world_size x per-rank batch). A trainer draws the whole global batch from (seed, step)
// as a single process with batch `global` would, then keeps its rows, so N ranks x batch B follow
// the same data as 1 rank x batch N*B.
struct BatchShard {
  int64_t offset = 0;
  int64_t size = 0;
  int64_t global = 0;
  bool whole() const { return offset == 0 && size == global; }
};

// The shard's rows of a tensor of the whole global batch ([global, ...] -> [size, ...]); the
// tensor itself when the shard is the whole batch.
inline at::Tensor shard_rows(const at::Tensor& global_batch, const BatchShard& shard) {
  return shard.whole() ? global_batch : global_batch.narrow(0, shard.offset, shard.size).contiguous();
}

class RankGroup {
 public:
  // Joins the group of config.world_size processes (config.validate()d). Blocks until every rank
  // has joined or config.timeout_s passed. `label` starts the messages ("train-vae").
  // Throws ConfigError when this build has no distributed training, Error when joining fails.
  static std::shared_ptr<RankGroup> join(const DistributedConfig& config, const std::string& label);
  ~RankGroup();
  RankGroup(const RankGroup&) = delete;
  RankGroup& operator=(const RankGroup&) = delete;

  int rank() const { return config_.rank; }
  int world_size() const { return config_.world_size; }
  const DistributedConfig& config() const { return config_; }

  // Overwrites every tensor (contiguous, on one device) with rank 0's, in place.
  void broadcast(const std::vector<at::Tensor>& tensors);
  // Replaces every gradient of `parameters` by its mean over the ranks (one all-reduce per bucket
  // of about 16 M values, all in flight together). An undefined gradient enters as zeros.
  void average_gradients(const std::vector<at::Tensor>& parameters);
  // values: [n] float64 (CPU) -> the element-wise sum over the ranks, in place.
  void sum(at::Tensor& values);
  // Waits until every rank gets here.
  void barrier();

 private:
  struct Impl;
  RankGroup(DistributedConfig config, std::string label, std::unique_ptr<Impl> impl);
  // Runs a collective; a c10d / Gloo failure becomes an Error saying the contact was lost.
  template <typename F>
  void collective(const char* what, F&& f);

  DistributedConfig config_;
  std::string label_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momu

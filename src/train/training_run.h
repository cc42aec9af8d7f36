// What every momu trainer shares (private to src/train): the run configuration resolved on
// resume, the AdamW optimizer, the EMA copy, the learning-rate schedule, gradient clipping, the
// non-finite loss check, metrics.jsonl and its train-record windows, validation on its cadence
// with the best/ checkpoint, last/ with the trainer state, and the step loop. A trainer (VAE
// stages, diffusion experts) supplies only its batches and loss, its validation record and what
// its checkpoint holds (TrainingHooks). Resume is exact because a step's batch and noise are
// functions of (seed, step) and the run restores the model, EMA, optimizer and step.
// Data-parallel (options.group, src/train/data_parallel.h): every rank computes its shard of the
// global batch; the initial weights come from rank 0, gradients and the step's loss and scalars
// are averaged over the ranks, and rank 0 alone validates and writes the run folder.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/optim/adamw.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_file.h"
#include "momu/core/error.h"
#include "momu/core/log.h"
#include "train/checkpoint_json.h"
#include "train/data_parallel.h"
#include "train/train_config.h"

namespace momu {

// The run configuration of a training run. A new run uses `given` (has_given must be true). On
// resume the one saved in `last_dir`/config.json is read, which must have "format" `format` and
// `kind_key` == `kind` (else a ConfigError saying the checkpoint is not a `kind` `what`); the run
// then uses `given` when `has_given`, else the saved one, after `adjust` (options such as a new
// step count), and it must equal the saved one except at `steps_key` (the train config whose
// "steps" may change: a longer schedule). `checkpoint_config` receives config.json (null for a
// new run). `label` starts the messages.
template <typename RunConfig>
RunConfig resolve_run_config(const std::string& label, const std::filesystem::path& last_dir,
                             bool resume, const RunConfig& given, bool has_given,
                             const std::string& format, const char* kind_key,
                             const std::string& kind, const std::string& what,
                             const std::string& steps_key, nlohmann::json& checkpoint_config,
                             const std::function<void(RunConfig&)>& adjust = {}) {
  checkpoint_config = nullptr;
  RunConfig run = given;
  if (!resume) {
    if (!has_given) throw ConfigError(label + ": a new run needs a run config (--config)");
    if (adjust) adjust(run);
    return run;
  }
  const std::filesystem::path file = last_dir / "config.json";
  if (!std::filesystem::exists(file)) throw IoError(last_dir.string() + ": no checkpoint to resume from");
  checkpoint_config = read_json_file(file);
  if (!checkpoint_json::has_string(checkpoint_config, "format", format) ||
      !checkpoint_json::has_string(checkpoint_config, kind_key, kind)) {
    throw ConfigError(last_dir.string() + ": the checkpoint is not a '" + kind + "' " + what);
  }
  const RunConfig saved = checkpoint_json::part<RunConfig>(checkpoint_config, "run", file);
  if (!has_given) run = saved;
  if (adjust) adjust(run);
  nlohmann::json a = saved, b = run;
  a[steps_key]["steps"] = b[steps_key]["steps"];
  if (a != b) {
    const auto diff = nlohmann::json::diff(a, b);
    throw ConfigError(label + " --resume: the config differs from the checkpoint's at " +
                      (diff.empty() ? std::string("?") : diff[0].value("path", "?")) + " (only " +
                      steps_key + ".steps may change on resume)");
  }
  return run;  // the saved run but for the schedule's length
}

struct TrainingRunOptions {
  std::string label;           // "train-vae", "train-diffusion": starts messages
  std::string progress_label;  // Progress::label and validation log lines ("train-music")
  std::filesystem::path out_dir;  // metrics.jsonl, last/, best/
  TrainConfig train;
  std::string weights_prefix;  // tensor names of the trained module ("music.", "denoiser.")
  bool resume = false;
  int64_t stop_after_steps = -1;  // stop (with a last/ checkpoint) after this many steps
  std::string device = "cpu";
  // The ranks of a data-parallel run (RankGroup::join, done by the trainer before its data work);
  // null: a single process.
  std::shared_ptr<RankGroup> group;
};

// The group of a data-parallel run: null for world_size 1, else the joined group.
std::shared_ptr<RankGroup> join_ranks(const DistributedConfig& config, const std::string& label);

// One optimisation step's result: the loss to minimise (a scalar tensor with a graph) and the
// scalars averaged into the train records of metrics.jsonl (a NaN scalar is left out of its
// average, so a scalar some steps lack averages over the steps that have it). In a data-parallel
// run every rank returns the same names in the same order each step (NaN where its shard lacks
// one): they are averaged over the ranks by position.
struct StepOutput {
  at::Tensor loss;
  std::vector<std::pair<std::string, double>> scalars;
};

// What a checkpoint folder holds besides the trainer state.
struct CheckpointContent {
  nlohmann::json config;                        // config.json
  std::map<std::string, at::Tensor> weights;    // model.safetensors (the EMA and frozen parts)
  std::map<std::string, std::string> metadata;  // its metadata
};

struct TrainingHooks {
  // The loss of step `step` on the rows `shard` of its global batch (batch, noise and dropout of
  // the whole global batch drawn from (seed, step), the shard's rows kept); the model is in
  // training mode and its gradients are zero. A single process gets the whole batch.
  std::function<StepOutput(int64_t step, const BatchShard& shard)> step;
  // The validation record at `step` ({"split": "validation", "step": step, "loss": ..., ...});
  // empty function: the run has no validation data.
  std::function<nlohmann::json(int64_t step)> validate;
  // The checkpoint written after `step` steps; `validation`: the last validation record or null.
  std::function<CheckpointContent(int64_t step, const nlohmann::json& validation)> checkpoint;
};

class TrainingRun {
 public:
  // model: the module trained; ema: its exponential moving average (same structure), which the
  // checkpoints hold as the model. Both already on options.device. Makes the AdamW optimizer.
  TrainingRun(TrainingRunOptions options, torch::nn::Module& model, torch::nn::Module& ema);

  // Resume (options.resume): the model, EMA, optimizer, step and best validation loss of
  // out_dir/last. Throws IoError / FormatError naming the file, ConfigError when the checkpoint
  // was trained with another number of ranks.
  void load_last();
  // Whether this process writes the run folder (rank 0, or a single process).
  bool writes() const { return !options_.group || options_.group->rank() == 0; }
  int world_size() const { return options_.group ? options_.group->world_size() : 1; }
  // This rank's rows of every step's global batch (train.batch_size rows per rank).
  BatchShard shard() const;
  // Steps done so far (the resumed step after load_last).
  int64_t step() const { return step_; }
  torch::optim::AdamW& optimizer() { return optimizer_; }

  // Trains up to train.steps (or stop_after_steps more), then makes sure last/ holds the final
  // step. Throws Error when the loss becomes non-finite (last/ is left as it was), or when a
  // data-parallel run loses contact with another rank.
  void run(const TrainingHooks& hooks, const LogSink& log = {}, const ProgressCallback& progress = {});

  const nlohmann::json& last_validation() const { return last_validation_; }
  std::filesystem::path last_dir() const { return options_.out_dir / "last"; }
  std::filesystem::path best_dir() const { return options_.out_dir / "best"; }

 private:
  void save(const TrainingHooks& hooks, bool best);
  // Rank 0's model and EMA weights on every rank.
  void broadcast_weights();
  // The loss and scalars of a step averaged over the ranks (a scalar's NaNs left out).
  void average_over_ranks(double& loss, std::vector<std::pair<std::string, double>>& scalars);

  TrainingRunOptions options_;
  torch::nn::Module& model_;
  torch::nn::Module& ema_;
  torch::optim::AdamW optimizer_;
  int64_t step_ = 0;
  double best_validation_;
  nlohmann::json last_validation_ = nullptr;
};

}  // namespace momu

// Two-stage training of BiCoR-VAE (DESIGN.md section 3): stage "music" trains the music VAE
// (L1 reconstruction of the normalised log-mel + lambda_kl * KL); stage "motion" freezes it and
// trains the motion VAE (reconstruction + lambda_kl * KL + lambda_c * contrastive rhythmic loss).
//
// A run folder holds metrics.jsonl (one JSON object per line: training averages every log_every
// steps, validation every validate_every), last/ (the newest checkpoint, replaced atomically every
// checkpoint_every steps and at the end) and best/ (the checkpoint of lowest validation loss).
// A checkpoint folder: config.json (format, stage, step, the model spec, the run config, the data),
// model.safetensors (EMA weights, "music." and "motion." tensors: what inference loads), and
// trainer/ (raw weights, optimizer state, trainer state) from which --resume continues exactly:
// batches and noise are functions of (seed, step), so a resumed run repeats an uninterrupted one.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "momu/core/log.h"
#include "train/distributed_config.h"
#include "train/vae_run_config.h"

namespace momu {

struct VaeTrainOptions {
  std::string stage;                        // "music" or "motion"
  std::filesystem::path data_dir;           // a `momu prepare` folder
  VaeRunConfig config;
  bool has_config = true;                   // false: resume with the checkpoint's config
  // Set on top of the config (or the checkpoint's): the stage's train.steps when > 0 (a longer
  // schedule may continue a run), the motion stage's lambda_c when >= 0 (a new run only: on
  // resume it must equal the checkpoint's, as every field but steps).
  int64_t steps = 0;
  double lambda_c = -1.0;
  std::filesystem::path out_dir;            // the run folder
  std::filesystem::path music_checkpoint;   // stage motion (fresh start): a music checkpoint
  bool resume = false;                      // continue from out_dir/last
  std::string device = "cpu";
  int64_t stop_after_steps = -1;            // stop (with a checkpoint) after this many steps of
                                            // this call, without ending the schedule (tests)
  // Data-parallel training (README, "Training on several processes or machines"): this
  // process's rank; train.batch_size is the batch of each rank. Resume with the same world size.
  DistributedConfig distributed;
};

struct VaeTrainResult {
  int64_t step = 0;                  // steps completed in all
  double seconds = 0.0;              // wall time of this call
  nlohmann::json last_validation;    // the last validation record (may be null)
  std::filesystem::path checkpoint;  // out_dir/last
};

// Throws ConfigError (bad config, resume mismatch), IoError / FormatError (data, checkpoints),
// Error (divergence: a non-finite loss).
VaeTrainResult train_vae(const VaeTrainOptions& options, const LogSink& log = {},
                         const ProgressCallback& progress = {});

}  // namespace momu

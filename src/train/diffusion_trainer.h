// Training a diffusion expert (DESIGN.md section 4): epsilon prediction on cached BiCoR-VAE
// latents, with the condition dropped (null flag) with probability cond_dropout for
// classifier-free guidance. Same machinery as the VAE trainer: AdamW with warm-up and cosine
// decay, gradient clipping, EMA, JSON-lines metrics (train averages and validation loss),
// atomic checkpoint folders (last/ and best/) and exact --resume (crops, timesteps, noise and
// dropout are functions of (seed, step)).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "momu/core/log.h"
#include "train/diffusion_run_config.h"
#include "train/distributed_config.h"

namespace momu {

struct DiffusionTrainOptions {
  std::string direction;              // "motion2music" or "music2motion"
  std::filesystem::path vae_dir;      // BiCoR-VAE checkpoint with both stages
  std::filesystem::path data_dir;     // `momu prepare` folder
  DiffusionRunConfig config;
  bool has_config = true;             // false: resume with the checkpoint's config
  int64_t steps = 0;                  // > 0: train.steps, on top of the config or checkpoint's
  std::filesystem::path out_dir;      // run folder (latents.safetensors, metrics.jsonl, last/, best/)
  bool resume = false;
  // A new run (not --resume) may start from an expert's weights instead of random ones: a
  // checkpoint folder (config.json + model.safetensors, e.g. a run's last/ or a packed model's
  // expert) of the same direction, denoiser, condition and VAE; its latent scales are kept. The
  // optimizer, step and schedule start afresh (fine-tuning).
  std::filesystem::path init_dir;
  std::string device = "cpu";
  int64_t stop_after_steps = -1;      // stop (with a checkpoint) after this many steps of this call
  // Data-parallel training (README, "Training on several processes or machines"): this
  // process's rank; train.batch_size is the batch of each rank. Resume with the same world size.
  DistributedConfig distributed;
};

struct DiffusionTrainResult {
  int64_t step = 0;
  double seconds = 0.0;
  nlohmann::json last_validation;
  std::filesystem::path checkpoint;   // out_dir/last
};

// Throws ConfigError (bad config, resume mismatch, VAE without motion stage), IoError /
// FormatError (data, checkpoints), Error (non-finite loss).
DiffusionTrainResult train_diffusion(const DiffusionTrainOptions& options, const LogSink& log = {},
                                     const ProgressCallback& progress = {});

}  // namespace momu

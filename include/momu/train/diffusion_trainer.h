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
#include "momu/train/distributed_config.h"
#include "momu/model/diffusion_config.h"
#include "momu/model/sampler.h"
#include "momu/motion/motion_clock.h"
#include "momu/train/train_config.h"

namespace momu {

// A diffusion run configuration (configs/diffusion_*.json).
struct DiffusionRunConfig {
  DenoiserConfig denoiser;   // latent_channels / cond_channels 0: from the VAE
  ScheduleConfig schedule;
  TrainConfig train;         // segment_frames at the log-mel rate (latent crop = segment / 2^n)
  double cond_dropout = 0.1; // probability of the null condition per training crop
  // What the condition holds (DiffusionExpertSpec::condition): "latent", "latent+rhythm" or
  // "rhythm". The rhythm envelope is the music's spectral flux for music2motion, the motion's
  // kinematic amplitude Q for motion2music, from the prepared clips' log-mel and q.
  // "clock" (issue 12): the target's own beat clock and the partner's energy; each group is
  // dropped on its own with these probabilities (on top of cond_dropout for the whole condition).
  std::string condition = "latent";
  double clock_dropout = 0.2;
  double content_dropout = 0.2;
  // Tempo augmentation: every training pair also enters stretched by these rates, both
  // modalities together (include/momu/data/clip_stretch.h); 1 is the clip itself.
  std::vector<double> tempo_stretch{1.0};
  MotionClockConfig motion_clock;  // how the motion's clock is read ("clock" only)
  SamplerConfig sampler;     // generation defaults saved with the model
  void validate() const;     // throws ConfigError
};
void to_json(nlohmann::json& j, const DiffusionRunConfig& c);
void from_json(const nlohmann::json& j, DiffusionRunConfig& c);  // strict; validates
DiffusionRunConfig load_diffusion_run_config(const std::filesystem::path& path);

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

// The run configuration of a diffusion expert's training (configs/diffusion_*.json,
// train/diffusion_trainer.h): denoiser, schedule, training, condition and the sampler defaults
// saved with the model.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "diffusion/schedule_config.h"
#include "model/denoiser_config.h"
#include "momu/diffusion/sampler_config.h"
#include "motion/motion_clock.h"
#include "train/train_config.h"

namespace momu {

// Guidance distillation (Meng et al. 2023, stage one): a student with a guidance embedding
// (DenoiserConfig::guidance_embedding) learns its teacher's guided noise prediction for scales
// drawn per crop, so a guided sampling step costs one evaluation instead of two or three. The
// teacher is a trained expert of the same direction, condition and VAE; the student starts from
// its weights. Target for a crop with condition c (clock experts: b = c without its content;
// other experts: b = the null condition):
//   eps_null + s_b (eps_b - eps_null) + s (eps_c - eps_b), all three from the teacher.
struct DistillationConfig {
  std::string teacher;            // the teacher expert's folder (set by `--teacher`)
  double guidance_min = 1.0, guidance_max = 10.0;              // s ~ U[min, max]
  double clock_guidance_min = 1.0, clock_guidance_max = 18.0;  // s_b ~ U[min, max]
  double unguided_fraction = 0.2; // crops trained at (1, 1): the conditional prediction
  // Crops at t < guidance_from * T train at (1, 1) too: the samplers' guidance interval starts
  // there (the shipped models' 0.07), and guided targets at the least noisy steps are large.
  double guidance_from = 0.0;
  void validate() const;          // throws ConfigError
};
void to_json(nlohmann::json& j, const DistillationConfig& c);
void from_json(const nlohmann::json& j, DistillationConfig& c);  // strict; validates

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
  // modalities together (src/data/clip_stretch.h); 1 is the clip itself.
  std::vector<double> tempo_stretch{1.0};
  MotionClockConfig motion_clock;  // how the motion's clock is read ("clock" only)
  SamplerConfig sampler;     // generation defaults saved with the model
  // Set: the run distils a teacher's guidance into a student (denoiser.guidance_embedding true).
  // Written to JSON only when set.
  std::optional<DistillationConfig> distillation;
  void validate() const;     // throws ConfigError
};
void to_json(nlohmann::json& j, const DiffusionRunConfig& c);
void from_json(const nlohmann::json& j, DiffusionRunConfig& c);  // strict; validates
DiffusionRunConfig load_diffusion_run_config(const std::filesystem::path& path);

}  // namespace momu

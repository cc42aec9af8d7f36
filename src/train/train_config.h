// Optimisation settings shared by momu's trainers (VAEs and diffusion experts): AdamW with linear
// warm-up and cosine decay, gradient clipping, EMA of the weights, seeded batches, and the cadence
// of logging, validation and checkpoints. Plain struct, validated, saved with every checkpoint.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>

namespace momu {

struct TrainConfig {
  int64_t steps = 10000;
  int batch_size = 16;
  int segment_frames = 512;        // frames at the model frame rate (62.5 fps) per training crop
  double learning_rate = 2e-4;     // peak
  int64_t warmup_steps = 500;      // linear from 0 to the peak
  double min_lr_ratio = 0.1;       // cosine decay to learning_rate * min_lr_ratio at `steps`
  double weight_decay = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double grad_clip = 1.0;          // max global gradient norm (0: off)
  double ema_decay = 0.999;        // EMA of the weights (ramped up as (1+s)/(10+s) early on)
  uint64_t seed = 0;
  int64_t log_every = 50;          // steps per training metrics line
  int64_t validate_every = 500;
  int64_t checkpoint_every = 500;  // must be a multiple of log_every
  // Loss weights (what a trainer does not use must stay at its default).
  double lambda_kl = 1e-4;         // KL weight (mean over latent elements)
  double lambda_c = 0.0;           // contrastive rhythmic loss weight (motion VAE stage)

  // Learning rate at a step (0-based): warm-up, then cosine decay.
  double learning_rate_at(int64_t step) const;
  // EMA decay used after `step` updates.
  double ema_decay_at(int64_t step) const;
  void validate() const;  // throws ConfigError naming the field
};

void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);  // strict; validates

}  // namespace momu

// A trained diffusion expert as one object (DESIGN.md section 4): the denoiser (EMA weights), its
// schedule, the latent scales it was trained with, the sampler defaults, and the identity of the
// BiCoR-VAE whose latents it models. Checkpoint folder: config.json (format "momu-diffusion") +
// model.safetensors ("denoiser." tensors) [+ trainer/ while training].
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "momu/model/denoiser.h"
#include "momu/model/diffusion_config.h"
#include "momu/model/noise_schedule.h"
#include "momu/model/sampler.h"

namespace momu {

constexpr const char* kDiffusionFormat = "momu-diffusion";
constexpr int kDiffusionVersion = 1;

struct DiffusionExpertSpec {
  std::string direction;  // "motion2music" (generates music latents) or "music2motion"
  DenoiserConfig denoiser;
  ScheduleConfig schedule;
  // Latents are multiplied by these before diffusion (1 / std over the training split), for the
  // generated stream and the condition alike; both experts of a model share them.
  double music_scale = 1.0;
  double motion_scale = 1.0;
  std::string vae_fingerprint;  // bicor_vae_fingerprint() of the VAE the latents came from
  SamplerConfig sampler;        // defaults for generation (window = the training crop)
  // Kinematic-tree bone lengths (cm, order of Skeleton::tree_bones()) of the training motion:
  // 1st and 99th percentiles, used to clamp generated skeletons. Empty when unknown.
  std::vector<double> bone_min, bone_max;
  // The condition also holds the partner's rhythm envelope (include/momu/model/rhythm_condition.h)
  // as one channel after the partner latent: denoiser.cond_channels = partner latent + 1.
  // Absent in configs written before it existed: false.
  bool rhythm_condition = false;
  int rhythm_channels() const { return rhythm_condition ? 1 : 0; }
  bool generates_music() const { return direction == "motion2music"; }
  double target_scale() const { return generates_music() ? music_scale : motion_scale; }
  double cond_scale() const { return generates_music() ? motion_scale : music_scale; }
  void validate() const;  // throws ConfigError
};
void to_json(nlohmann::json& j, const DiffusionExpertSpec& s);
void from_json(const nlohmann::json& j, DiffusionExpertSpec& s);  // strict; validates

class DiffusionExpert {
 public:
  explicit DiffusionExpert(const DiffusionExpertSpec& spec);  // random weights
  // Reads <dir>/config.json and <dir>/model.safetensors onto `device`. Throws IoError /
  // FormatError naming the file.
  static DiffusionExpert load(const std::filesystem::path& dir, const std::string& device = "cpu");

  const DiffusionExpertSpec& spec() const { return spec_; }
  Denoiser& denoiser() { return denoiser_; }
  const NoiseSchedule& schedule() const { return schedule_; }
  torch::Device device() const { return device_; }
  void to(const torch::Device& device);

  // The denoiser as the sampler calls it (no gradients; inputs moved to the model's device,
  // outputs returned on it).
  EpsFunction eps();

 private:
  DiffusionExpertSpec spec_;
  Denoiser denoiser_{nullptr};
  NoiseSchedule schedule_;
  torch::Device device_{torch::kCPU};
};

}  // namespace momu

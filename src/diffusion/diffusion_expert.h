// A trained diffusion expert as one object (DESIGN.md section 4): the denoiser (EMA weights), its
// schedule, the latent scales it was trained with, the sampler defaults, and the identity of the
// BiCoR-VAE whose latents it models. Checkpoint folder: config.json (format "momu-diffusion") +
// model.safetensors ("denoiser." tensors) [+ trainer/ while training].
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/beat_clock.h"
#include "diffusion/noise_schedule.h"
#include "diffusion/sampler.h"
#include "model/denoiser.h"
#include "model/denoiser_config.h"
#include "motion/motion_clock.h"

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
  // What the condition holds (absent in configs written before it existed: "latent"):
  //   "latent"        the partner's latent (the paper's), cond_channels = d_partner;
  //   "latent+rhythm" the partner's latent and its rhythm envelope
  //                   (src/model/rhythm_condition.h) as one more channel;
  //   "rhythm"        the partner's rhythm envelope alone, cond_channels = 1;
  //   "clock"         a beat clock and the partner's energy (src/model/clock_condition.h),
  //                   cond_channels = 7: the target's own clock in training, the partner's (or
  //                   the asked tempo's) at generation.
  std::string condition = "latent";
  // "clock" only (written to config.json only then):
  BeatClockConfig clock;          // folding octave and tempo reference of the clock channels
  MotionClockConfig motion_clock; // how a dance's clock is read from its motion
  std::vector<double> clock_tempi_bpm;  // folded tempi of the training clips (joint generation
                                        // without --bpm draws one)
  bool uses_clock() const { return condition == "clock"; }
  bool uses_partner_latent() const { return condition != "rhythm" && condition != "clock"; }
  int rhythm_channels() const { return condition == "latent+rhythm" || condition == "rhythm" ? 1 : 0; }
  // denoiser.cond_channels for a partner latent of d_partner channels.
  int cond_channels_for(int d_partner) const {
    if (uses_clock()) return 7;
    return (uses_partner_latent() ? d_partner : 0) + rhythm_channels();
  }
  bool generates_music() const { return direction == "motion2music"; }
  double target_scale() const { return generates_music() ? music_scale : motion_scale; }
  double cond_scale() const { return generates_music() ? motion_scale : music_scale; }
  // Latents as the expert sees them and back (the scales it was trained with):
  // partner latent [dp, L] -> partner * cond_scale(); scaled target [d, L] -> / target_scale().
  at::Tensor scale_condition(const at::Tensor& partner_latent) const;
  at::Tensor unscale_target(const at::Tensor& scaled_target) const;
  void validate() const;  // throws ConfigError
};
// "latent", "latent+rhythm", "rhythm" or "clock" (DiffusionExpertSpec::condition).
bool is_diffusion_condition(const std::string& name);
void to_json(nlohmann::json& j, const DiffusionExpertSpec& s);
void from_json(const nlohmann::json& j, DiffusionExpertSpec& s);  // strict; validates

// The condition an expert sees (DiffusionExpertSpec::condition), from the partner's scaled latent
// [dp, L] and its rhythm envelope [1, L'] (fitted to L; unused, and may be undefined, for a
// "latent" condition). -> [dc, L] on the partner's device and dtype
at::Tensor expert_condition(const DiffusionExpertSpec& spec, const at::Tensor& partner,
                            const at::Tensor& envelope);

// A diffusion expert's config.json, read and checked without building the model (the fuzz
// targets and tests call it directly). FormatError naming the file: not JSON, another format or
// version, a 'model' object that does not validate.
DiffusionExpertSpec read_diffusion_expert_config(const std::filesystem::path& config_path);

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
  // A guidance-distilled expert's denoiser with its scales (spec().denoiser.guidance_embedding);
  // empty for other experts.
  ScaledEpsFunction scaled_eps();
  bool distilled() const { return spec_.denoiser.guidance_embedding; }

 private:
  DiffusionExpertSpec spec_;
  Denoiser denoiser_{nullptr};
  NoiseSchedule schedule_;
  torch::Device device_{torch::kCPU};
};

}  // namespace momu

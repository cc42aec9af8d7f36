// How the diffusion experts are sampled (DESIGN.md section 5): the sampler, its steps, guidance,
// the seed and the windows of long sequences. A plain struct, validated, saved with every
// expert as its default (GenerateOptions::sampler, momu/generate/pipeline.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace momu {

struct SamplerConfig {
  static constexpr int kMaxSteps = 10000;    // the limits validate() applies
  static constexpr int kMaxWindow = 100000;  // latent frames
  // "ddpm" (all T steps, ancestral), "ddim", or "dpmpp2m": DPM-Solver++(2M), the second-order
  // multistep solver on the clean-latent prediction (Lu et al. 2022), with eta > 0 its SDE form
  // (at first order and eta 0 or 1 a step equals DDIM's with the same eta).
  std::string sampler = "ddim";
  int steps = 50;                // DDIM / DPM-Solver++ steps (ignored by ddpm; <= the model's T)
  double eta = 0.0;              // stochasticity (0: deterministic; ddim: 1 with steps = T is DDPM;
                                 // dpmpp2m: 1 is the reverse SDE)
  double guidance = 3.0;         // classifier-free guidance scale s (1: the conditional model)
  // Guidance of a base condition (clock experts: the beat clock without the partner's content)
  // on its own, s_b: eps_null + s_b (eps_base - eps_null) + s (eps_cond - eps_base). Unset: s_b = s,
  // plain guidance. Written to JSON only when set.
  std::optional<double> clock_guidance;
  // The guidance interval (Kynkaanniemi et al. 2024): guidance and clock guidance only at
  // timesteps t with guidance_from * T <= t <= guidance_to * T (fractions of the model's T);
  // elsewhere the conditional prediction alone, one denoiser evaluation per step instead of two
  // or three. {0, 1}: every step. Written to JSON ("guidance_interval": [from, to]) only when not
  // {0, 1}.
  double guidance_from = 0.0;
  double guidance_to = 1.0;
  double tc = 0.5;               // joint generation: cross-guidance for t <= tc * T
  uint64_t seed = 0;
  int window = 256;              // latent frames per denoiser window
  int overlap = 64;              // frames shared by neighbouring windows
  int window_batch = 8;          // windows per denoiser call
  void validate() const;         // throws ConfigError
  // Whether timestep t (0..timesteps-1) is guided (inside the guidance interval).
  bool guided_at(int64_t t, int64_t timesteps) const;
};
void to_json(nlohmann::json& j, const SamplerConfig& c);
void from_json(const nlohmann::json& j, SamplerConfig& c);  // strict; validates

}  // namespace momu

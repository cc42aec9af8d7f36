// Configuration of a diffusion expert (DESIGN.md section 4): the denoiser Transformer's sizes and
// the noise schedule. Plain structs, validated, saved with every checkpoint.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace momu {

struct DenoiserConfig {
  int latent_channels = 20;  // d of the generated stream
  int cond_channels = 20;    // d of the condition stream (the partner modality's latent)
  int hidden = 256;          // Transformer width
  int depth = 6;             // blocks
  int heads = 4;             // attention heads (hidden % heads == 0, head size even for rotary)
  double mlp_ratio = 4.0;    // MLP hidden = mlp_ratio * hidden
  int in_kernel = 3;         // kernel of the Conv1d in-projection (odd)
  double rope_base = 10000.0;  // rotary position base: positions work at any length
  void validate() const;     // throws ConfigError
};
void to_json(nlohmann::json& j, const DenoiserConfig& c);
void from_json(const nlohmann::json& j, DenoiserConfig& c);  // strict; validates

struct ScheduleConfig {
  int timesteps = 1000;           // T
  std::string kind = "ldm_linear";  // betas = linspace(sqrt(beta_start), sqrt(beta_end), T)^2
                                    // ("linear": linspace(beta_start, beta_end, T))
  double beta_start = 0.00085;
  double beta_end = 0.012;
  void validate() const;          // throws ConfigError
};
void to_json(nlohmann::json& j, const ScheduleConfig& c);
void from_json(const nlohmann::json& j, ScheduleConfig& c);  // strict; validates

}  // namespace momu

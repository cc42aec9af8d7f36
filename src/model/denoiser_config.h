// Configuration of a diffusion expert's network (DESIGN.md section 4): the denoiser Transformer's
// sizes. A plain struct, validated, saved with every checkpoint (the noise schedule's is
// diffusion/schedule_config.h).
#pragma once

#include <nlohmann/json_fwd.hpp>

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
  // Guidance distillation (Meng et al. 2023): the network also takes the step's guidance scales
  // (s, s_b) through an embedding added to the timestep's, and predicts its teacher's guided
  // noise in one evaluation (train/diffusion_trainer.h, "distillation"). Written to JSON only
  // when true.
  bool guidance_embedding = false;
  void validate() const;     // throws ConfigError
};
void to_json(nlohmann::json& j, const DenoiserConfig& c);
void from_json(const nlohmann::json& j, DenoiserConfig& c);  // strict; validates

}  // namespace momu

// Configuration of one BiCoR-VAE branch (music or motion): a 1D convolutional ResNet KL-VAE over
// time (DESIGN.md section 3). Plain struct, validated, saved in every checkpoint's config.json.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace momu {

struct VaeConfig {
  std::string modality = "music";  // "music" (log-mel bands as channels) or "motion" (features)
  int in_channels = 80;            // music: mel bands; motion: J*D + D (0 = taken from the data)
  int latent_channels = 20;        // d
  int base_channels = 128;
  std::vector<int> channel_mult = {1, 2, 2};  // width of each level = base_channels * mult
  int blocks_per_level = 2;        // residual blocks per level
  int num_downsamples = 1;         // stride-2 steps after levels 0..n-1: time compression 2^n
  bool mid_attention = true;       // self-attention between the two middle residual blocks
  int attention_heads = 4;
  int norm_groups = 32;            // GroupNorm groups; every width must be divisible by it
  double dropout = 0.0;

  int time_compression() const { return 1 << num_downsamples; }
  // Throws ConfigError naming the field.
  void validate() const;
};

void to_json(nlohmann::json& j, const VaeConfig& c);
void from_json(const nlohmann::json& j, VaeConfig& c);  // strict: unknown keys are errors; validates

}  // namespace momu

#include "model/vae_config.h"

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

void VaeConfig::validate() const {
  auto fail = [](const std::string& m) { throw ConfigError("VAE config: " + m); };
  if (modality != "music" && modality != "motion") {
    fail("modality must be \"music\" or \"motion\", got \"" + modality + "\"");
  }
  if (in_channels < 0) fail("in_channels must be >= 0 (0: from the data)");
  if (latent_channels < 1) fail("latent_channels must be >= 1");
  if (base_channels < 1) fail("base_channels must be >= 1");
  if (channel_mult.empty()) fail("channel_mult must not be empty");
  if (blocks_per_level < 1) fail("blocks_per_level must be >= 1");
  if (num_downsamples < 0 || num_downsamples > 4) fail("num_downsamples must be in [0, 4]");
  if (num_downsamples > static_cast<int>(channel_mult.size())) {
    fail("num_downsamples cannot exceed the number of levels");
  }
  if (norm_groups < 1) fail("norm_groups must be >= 1");
  for (int m : channel_mult) {
    if (m < 1) fail("channel_mult entries must be >= 1");
    if ((base_channels * m) % norm_groups != 0) {
      fail("width " + std::to_string(base_channels * m) + " is not divisible by norm_groups " +
           std::to_string(norm_groups));
    }
  }
  if (mid_attention) {
    const int w = base_channels * channel_mult.back();
    if (attention_heads < 1 || w % attention_heads != 0) {
      fail("attention_heads must divide the middle width " + std::to_string(w));
    }
  }
  if (!(dropout >= 0.0 && dropout < 1.0)) fail("dropout must be in [0, 1)");
}

void to_json(nlohmann::json& j, const VaeConfig& c) {
  j = nlohmann::json{{"modality", c.modality},
                     {"in_channels", c.in_channels},
                     {"latent_channels", c.latent_channels},
                     {"base_channels", c.base_channels},
                     {"channel_mult", c.channel_mult},
                     {"blocks_per_level", c.blocks_per_level},
                     {"num_downsamples", c.num_downsamples},
                     {"mid_attention", c.mid_attention},
                     {"attention_heads", c.attention_heads},
                     {"norm_groups", c.norm_groups},
                     {"dropout", c.dropout}};
}

void from_json(const nlohmann::json& j, VaeConfig& c) {
  JsonFields f(j, "VAE config");
  f.get("modality", c.modality);
  f.get("in_channels", c.in_channels);
  f.get("latent_channels", c.latent_channels);
  f.get("base_channels", c.base_channels);
  f.get("channel_mult", c.channel_mult);
  f.get("blocks_per_level", c.blocks_per_level);
  f.get("num_downsamples", c.num_downsamples);
  f.get("mid_attention", c.mid_attention);
  f.get("attention_heads", c.attention_heads);
  f.get("norm_groups", c.norm_groups);
  f.get("dropout", c.dropout);
  f.finish();
  c.validate();
}

}  // namespace momu

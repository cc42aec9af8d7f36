#include "model/denoiser_config.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

void DenoiserConfig::validate() const {
  auto fail = [](const std::string& m) { throw ConfigError("denoiser config: " + m); };
  if (latent_channels < 0) fail("latent_channels must be >= 0 (0: from the VAE)");
  if (cond_channels < 0) fail("cond_channels must be >= 0 (0: from the VAE)");
  if (hidden < 2) fail("hidden must be >= 2");
  if (depth < 1) fail("depth must be >= 1");
  if (heads < 1 || hidden % heads != 0) {
    fail("heads must divide hidden (" + std::to_string(hidden) + ")");
  }
  if ((hidden / heads) % 2 != 0) fail("the head size hidden / heads must be even (rotary positions)");
  if (!(mlp_ratio > 0.0)) fail("mlp_ratio must be > 0");
  if (in_kernel < 1 || in_kernel % 2 == 0) fail("in_kernel must be odd and >= 1");
  if (!(rope_base > 1.0)) fail("rope_base must be > 1");
  if (guidance_embedding && hidden % 4 != 0) fail("a guidance embedding needs hidden divisible by 4");
}

void to_json(nlohmann::json& j, const DenoiserConfig& c) {
  j = nlohmann::json{{"latent_channels", c.latent_channels}, {"cond_channels", c.cond_channels},
                     {"hidden", c.hidden},       {"depth", c.depth},
                     {"heads", c.heads},         {"mlp_ratio", c.mlp_ratio},
                     {"in_kernel", c.in_kernel}, {"rope_base", c.rope_base}};
  if (c.guidance_embedding) j["guidance_embedding"] = true;
}

void from_json(const nlohmann::json& j, DenoiserConfig& c) {
  JsonFields f(j, "denoiser config");
  f.get("latent_channels", c.latent_channels);
  f.get("cond_channels", c.cond_channels);
  f.get("hidden", c.hidden);
  f.get("depth", c.depth);
  f.get("heads", c.heads);
  f.get("mlp_ratio", c.mlp_ratio);
  f.get("in_kernel", c.in_kernel);
  f.get("rope_base", c.rope_base);
  f.get("guidance_embedding", c.guidance_embedding);
  f.finish();
  c.validate();
}
}  // namespace momu

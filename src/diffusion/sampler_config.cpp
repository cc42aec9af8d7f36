#include "momu/diffusion/sampler_config.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

void SamplerConfig::validate() const {
  auto fail = [](const std::string& m) { throw ConfigError("sampler: " + m); };
  if (sampler != "ddpm" && sampler != "ddim" && sampler != "dpmpp2m") {
    fail("sampler must be \"ddpm\", \"ddim\" or \"dpmpp2m\", got \"" + sampler + "\"");
  }
  if (steps < 1 || steps > kMaxSteps) {
    fail("steps must be in [1, " + std::to_string(kMaxSteps) + "], got " + std::to_string(steps));
  }
  if (!(eta >= 0.0 && eta <= 1.0)) fail("eta must be in [0, 1]");
  if (!(guidance >= 0.0) || !std::isfinite(guidance)) fail("guidance must be >= 0");
  if (!(tc >= 0.0 && tc <= 1.0)) fail("tc must be in [0, 1] (a fraction of T)");
  if (clock_guidance && !(*clock_guidance >= 0.0 && *clock_guidance <= 100.0)) {
    fail("clock_guidance must be in [0, 100]");
  }
  if (window < 1 || window > kMaxWindow) {
    fail("window must be in [1, " + std::to_string(kMaxWindow) + "]");
  }
  if (overlap < 0 || overlap >= window) fail("overlap must be in [0, window)");
  if (window_batch < 1) fail("window_batch must be >= 1");
}

void to_json(nlohmann::json& j, const SamplerConfig& c) {
  j = nlohmann::json{{"sampler", c.sampler}, {"steps", c.steps},     {"eta", c.eta},
                     {"guidance", c.guidance}, {"tc", c.tc},         {"seed", c.seed},
                     {"window", c.window},   {"overlap", c.overlap}, {"window_batch", c.window_batch}};
  if (c.clock_guidance) j["clock_guidance"] = *c.clock_guidance;
}

void from_json(const nlohmann::json& j, SamplerConfig& c) {
  JsonFields f(j, "sampler config");
  f.get("sampler", c.sampler);
  f.get("steps", c.steps);
  f.get("eta", c.eta);
  f.get("guidance", c.guidance);
  f.get("tc", c.tc);
  f.get("seed", c.seed);
  f.get("window", c.window);
  f.get("overlap", c.overlap);
  f.get("window_batch", c.window_batch);
  if (j.contains("clock_guidance")) {
    double g = 0.0;
    f.get("clock_guidance", g);
    c.clock_guidance = g;
  }
  f.finish();
  c.validate();
}

}  // namespace momu

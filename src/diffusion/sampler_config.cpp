#include "momu/diffusion/sampler_config.h"

#include <cmath>
#include <vector>

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
  if (!(guidance_from >= 0.0 && guidance_to <= 1.0 && guidance_from <= guidance_to)) {
    fail("guidance_interval must be [from, to] with 0 <= from <= to <= 1 (fractions of T)");
  }
  if (clock_guidance && !(*clock_guidance >= 0.0 && *clock_guidance <= 100.0)) {
    fail("clock_guidance must be in [0, 100]");
  }
  if (window < 1 || window > kMaxWindow) {
    fail("window must be in [1, " + std::to_string(kMaxWindow) + "]");
  }
  if (overlap < 0 || overlap >= window) fail("overlap must be in [0, window)");
  if (window_batch < 1) fail("window_batch must be >= 1");
}

bool SamplerConfig::guided_at(int64_t t, int64_t timesteps) const {
  const double x = static_cast<double>(t), n = static_cast<double>(timesteps);
  return x >= guidance_from * n - 1e-9 && x <= guidance_to * n + 1e-9;
}

void to_json(nlohmann::json& j, const SamplerConfig& c) {
  j = nlohmann::json{{"sampler", c.sampler}, {"steps", c.steps},     {"eta", c.eta},
                     {"guidance", c.guidance}, {"tc", c.tc},         {"seed", c.seed},
                     {"window", c.window},   {"overlap", c.overlap}, {"window_batch", c.window_batch}};
  if (c.clock_guidance) j["clock_guidance"] = *c.clock_guidance;
  if (c.guidance_from != 0.0 || c.guidance_to != 1.0) {
    j["guidance_interval"] = {c.guidance_from, c.guidance_to};
  }
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
  if (j.contains("guidance_interval")) {
    std::vector<double> g;
    f.get("guidance_interval", g);
    if (g.size() != 2) throw ConfigError("sampler config: guidance_interval must be [from, to]");
    c.guidance_from = g[0];
    c.guidance_to = g[1];
  }
  f.finish();
  c.validate();
}

}  // namespace momu

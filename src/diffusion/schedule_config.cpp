#include "diffusion/schedule_config.h"

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

void ScheduleConfig::validate() const {
  auto fail = [](const std::string& m) { throw ConfigError("schedule config: " + m); };
  if (timesteps < 2 || timesteps > 100000) fail("timesteps must be in [2, 100000]");
  if (kind != "ldm_linear" && kind != "linear") {
    fail("kind must be \"ldm_linear\" or \"linear\", got \"" + kind + "\"");
  }
  if (!(beta_start > 0.0) || !(beta_end < 1.0) || !(beta_end > beta_start)) {
    fail("need 0 < beta_start < beta_end < 1");
  }
}

void to_json(nlohmann::json& j, const ScheduleConfig& c) {
  j = nlohmann::json{{"timesteps", c.timesteps},
                     {"kind", c.kind},
                     {"beta_start", c.beta_start},
                     {"beta_end", c.beta_end}};
}

void from_json(const nlohmann::json& j, ScheduleConfig& c) {
  JsonFields f(j, "schedule config");
  f.get("timesteps", c.timesteps);
  f.get("kind", c.kind);
  f.get("beta_start", c.beta_start);
  f.get("beta_end", c.beta_end);
  f.finish();
  c.validate();
}

}  // namespace momu

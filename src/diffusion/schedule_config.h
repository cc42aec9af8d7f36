// Configuration of the noise schedule of a diffusion expert (DESIGN.md section 4). A plain
// struct, validated, saved with every checkpoint.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace momu {

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

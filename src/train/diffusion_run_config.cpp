#include "train/diffusion_run_config.h"

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "core/json_file.h"
#include "diffusion/diffusion_expert.h"
#include "momu/core/error.h"

namespace momu {

void DistillationConfig::validate() const {
  auto range = [](double lo, double hi, const char* what) {
    if (!(lo >= 1.0 && hi >= lo && hi <= 100.0)) {
      throw ConfigError(std::string("diffusion run config: distillation.") + what +
                        "_min / _max must satisfy 1 <= min <= max <= 100");
    }
  };
  range(guidance_min, guidance_max, "guidance");
  range(clock_guidance_min, clock_guidance_max, "clock_guidance");
  if (!(unguided_fraction >= 0.0 && unguided_fraction <= 1.0)) {
    throw ConfigError("diffusion run config: distillation.unguided_fraction must be in [0, 1]");
  }
  if (!(guidance_from >= 0.0 && guidance_from <= 1.0)) {
    throw ConfigError("diffusion run config: distillation.guidance_from must be in [0, 1]");
  }
}

void to_json(nlohmann::json& j, const DistillationConfig& c) {
  j = nlohmann::json{{"teacher", c.teacher},
                     {"guidance_min", c.guidance_min},
                     {"guidance_max", c.guidance_max},
                     {"clock_guidance_min", c.clock_guidance_min},
                     {"clock_guidance_max", c.clock_guidance_max},
                     {"unguided_fraction", c.unguided_fraction},
                     {"guidance_from", c.guidance_from}};
}

void from_json(const nlohmann::json& j, DistillationConfig& c) {
  JsonFields f(j, "distillation");
  f.get("teacher", c.teacher);
  f.get("guidance_min", c.guidance_min);
  f.get("guidance_max", c.guidance_max);
  f.get("clock_guidance_min", c.clock_guidance_min);
  f.get("clock_guidance_max", c.clock_guidance_max);
  f.get("unguided_fraction", c.unguided_fraction);
  f.get("guidance_from", c.guidance_from);
  f.finish();
  c.validate();
}

void DiffusionRunConfig::validate() const {
  denoiser.validate();
  schedule.validate();
  train.validate();
  sampler.validate();
  if (!(cond_dropout >= 0.0 && cond_dropout < 1.0)) {
    throw ConfigError("diffusion run config: cond_dropout must be in [0, 1)");
  }
  if (train.lambda_kl != TrainConfig().lambda_kl || train.lambda_c != 0.0) {
    throw ConfigError("diffusion run config: train.lambda_kl and train.lambda_c are VAE settings; "
                      "leave them out");
  }
  if (!is_diffusion_condition(condition)) {
    throw ConfigError("diffusion run config: condition must be \"latent\", \"latent+rhythm\", "
                      "\"rhythm\" or \"clock\", got \"" + condition + "\"");
  }
  if (!(clock_dropout >= 0.0 && clock_dropout < 1.0) || !(content_dropout >= 0.0 && content_dropout < 1.0)) {
    throw ConfigError("diffusion run config: clock_dropout and content_dropout must be in [0, 1)");
  }
  if (tempo_stretch.empty()) throw ConfigError("diffusion run config: tempo_stretch must list at least one rate");
  for (double r : tempo_stretch) {
    if (!(r >= 0.5 && r <= 2.0)) {
      throw ConfigError("diffusion run config: tempo_stretch rates must be in [0.5, 2], got " + std::to_string(r));
    }
  }
  motion_clock.validate();
  if (sampler.steps > schedule.timesteps) {
    throw ConfigError("diffusion run config: sampler.steps exceeds schedule.timesteps");
  }
  if (distillation) distillation->validate();
  if (distillation.has_value() != denoiser.guidance_embedding) {
    throw ConfigError("diffusion run config: denoiser.guidance_embedding is for (and needed by) a "
                      "distillation run");
  }
}

void to_json(nlohmann::json& j, const DiffusionRunConfig& c) {
  j = nlohmann::json{{"denoiser", c.denoiser},
                     {"schedule", c.schedule},
                     {"train", c.train},
                     {"cond_dropout", c.cond_dropout},
                     {"condition", c.condition},
                     {"sampler", c.sampler}};
  // Written only where they matter, so older run configs read back unchanged.
  if (c.condition == "clock") {
    j["clock_dropout"] = c.clock_dropout;
    j["content_dropout"] = c.content_dropout;
    j["motion_clock"] = c.motion_clock;
  }
  if (c.tempo_stretch != std::vector<double>{1.0}) j["tempo_stretch"] = c.tempo_stretch;
  if (c.distillation) j["distillation"] = *c.distillation;
}

void from_json(const nlohmann::json& j, DiffusionRunConfig& c) {
  JsonFields f(j, "diffusion run config");
  f.get("denoiser", c.denoiser);
  f.get("schedule", c.schedule);
  f.require("train", c.train);
  f.get("cond_dropout", c.cond_dropout);
  f.get("condition", c.condition);
  f.get("sampler", c.sampler);
  f.get("clock_dropout", c.clock_dropout);
  f.get("content_dropout", c.content_dropout);
  f.get("tempo_stretch", c.tempo_stretch);
  f.get("motion_clock", c.motion_clock);
  if (j.is_object() && j.contains("distillation")) {
    DistillationConfig d;
    f.get("distillation", d);
    c.distillation = d;
  }
  f.finish();
  c.validate();
}

DiffusionRunConfig load_diffusion_run_config(const std::filesystem::path& path) {
  const nlohmann::json j = read_json_file(path);
  try {
    return j.get<DiffusionRunConfig>();
  } catch (const ConfigError& e) {
    throw ConfigError(path.string() + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(path.string() + ": " + e.what());
  }
}

}  // namespace momu

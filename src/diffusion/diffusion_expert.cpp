#include "diffusion/diffusion_expert.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "core/json_file.h"
#include "io/safetensors.h"
#include "model/checkpoint_config.h"
#include "model/module_weights.h"
#include "model/rhythm_condition.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"

namespace momu {

namespace fs = std::filesystem;

bool is_diffusion_condition(const std::string& name) {
  return name == "latent" || name == "latent+rhythm" || name == "rhythm" || name == "clock";
}

void DiffusionExpertSpec::validate() const {
  auto fail = [](const std::string& m) { throw ConfigError("diffusion expert: " + m); };
  if (direction != "motion2music" && direction != "music2motion") {
    fail("direction must be \"motion2music\" or \"music2motion\", got \"" + direction + "\"");
  }
  denoiser.validate();
  if (denoiser.latent_channels < 1 || denoiser.cond_channels < 1) {
    fail("the denoiser's latent_channels and cond_channels must be set");
  }
  schedule.validate();
  sampler.validate();
  if (!(music_scale > 0.0) || !(motion_scale > 0.0)) fail("latent scales must be > 0");
  if (bone_min.size() != bone_max.size()) fail("bone_min and bone_max differ in length");
  if (!is_diffusion_condition(condition)) {
    fail("condition must be \"latent\", \"latent+rhythm\", \"rhythm\" or \"clock\", got \"" +
         condition + "\"");
  }
  if (condition == "rhythm" && denoiser.cond_channels != 1) {
    fail("a \"rhythm\" condition has cond_channels 1, got " + std::to_string(denoiser.cond_channels));
  }
  if (condition == "latent+rhythm" && denoiser.cond_channels < 2) {
    fail("a \"latent+rhythm\" condition has cond_channels >= 2");
  }
  if (condition == "clock" && denoiser.cond_channels != 7) {
    fail("a \"clock\" condition has cond_channels 7, got " + std::to_string(denoiser.cond_channels));
  }
  clock.validate();
  motion_clock.validate();
  for (double t : clock_tempi_bpm) {
    if (!(t > 0.0) || !std::isfinite(t)) fail("clock_tempi_bpm must be > 0");
  }
}

void to_json(nlohmann::json& j, const DiffusionExpertSpec& s) {
  j = nlohmann::json{{"direction", s.direction},   {"denoiser", s.denoiser},
                     {"schedule", s.schedule},     {"music_scale", s.music_scale},
                     {"motion_scale", s.motion_scale}, {"vae_fingerprint", s.vae_fingerprint},
                     {"sampler", s.sampler},       {"bone_min", s.bone_min},
                     {"bone_max", s.bone_max},     {"condition", s.condition}};
  if (s.uses_clock()) {
    j["clock"] = s.clock;
    j["motion_clock"] = s.motion_clock;
    j["clock_tempi_bpm"] = s.clock_tempi_bpm;
  }
}

void from_json(const nlohmann::json& j, DiffusionExpertSpec& s) {
  JsonFields f(j, "diffusion expert");
  f.require("direction", s.direction);
  f.require("denoiser", s.denoiser);
  f.require("schedule", s.schedule);
  f.require("music_scale", s.music_scale);
  f.require("motion_scale", s.motion_scale);
  f.require("vae_fingerprint", s.vae_fingerprint);
  f.get("sampler", s.sampler);
  f.get("bone_min", s.bone_min);
  f.get("bone_max", s.bone_max);
  f.get("condition", s.condition);
  f.get("clock", s.clock);
  f.get("motion_clock", s.motion_clock);
  f.get("clock_tempi_bpm", s.clock_tempi_bpm);
  f.finish();
  s.validate();
}

DiffusionExpert::DiffusionExpert(const DiffusionExpertSpec& spec)
    : spec_(spec), denoiser_(spec.denoiser), schedule_(spec.schedule) {
  spec_.validate();
  denoiser_->eval();
}

at::Tensor DiffusionExpertSpec::scale_condition(const at::Tensor& partner_latent) const {
  return partner_latent * cond_scale();
}

at::Tensor DiffusionExpertSpec::unscale_target(const at::Tensor& scaled_target) const {
  return scaled_target / target_scale();
}

DiffusionExpertSpec read_diffusion_expert_config(const fs::path& cfg_path) {
  const nlohmann::json cfg = read_json_file(cfg_path);
  const auto string_field = [&](const char* key) {
    return cfg.is_object() && cfg.contains(key) && cfg[key].is_string() ? cfg[key].get<std::string>()
                                                                        : std::string();
  };
  if (string_field("format") != kDiffusionFormat) {
    throw FormatError(cfg_path.string() + ": not a diffusion expert checkpoint (format '" +
                      string_field("format") + "', expected '" + kDiffusionFormat + "')");
  }
  if (!cfg.contains("version") || cfg["version"] != kDiffusionVersion) {
    throw FormatError(cfg_path.string() + ": unsupported version " +
                      (cfg.contains("version") ? cfg["version"].dump() : std::string("(none)")) +
                      " (" + std::to_string(kDiffusionVersion) + " expected)");
  }
  if (!cfg.contains("model")) throw FormatError(cfg_path.string() + ": no 'model' object");
  try {
    return cfg.at("model").get<DiffusionExpertSpec>();
  } catch (const ConfigError& e) {
    throw FormatError(cfg_path.string() + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(cfg_path.string() + ": " + e.what());
  }
}

DiffusionExpert DiffusionExpert::load(const fs::path& dir, const std::string& device) {
  if (!fs::is_directory(dir)) throw IoError(dir.string() + ": no such checkpoint folder");
  const DiffusionExpertSpec spec = read_diffusion_expert_config(dir / "config.json");
  DiffusionExpert expert(spec);
  const fs::path weights = dir / "model.safetensors";
  load_module_tensors(*expert.denoiser_, load_safetensors(weights).tensors, "denoiser.",
                      weights.string());
  expert.to(torch::Device(validate_device(device)));
  return expert;
}

void DiffusionExpert::to(const torch::Device& device) {
  denoiser_->to(device);
  device_ = device;
}

EpsFunction DiffusionExpert::eps() {
  Denoiser d = denoiser_;
  const torch::Device dev = device_;
  return [d, dev](const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond) mutable {
    torch::NoGradGuard no_grad;
    return d->forward(z.to(dev), t.to(dev), cond.defined() ? cond.to(dev) : at::Tensor());
  };
}

ScaledEpsFunction DiffusionExpert::scaled_eps() {
  if (!distilled()) return {};
  Denoiser d = denoiser_;
  const torch::Device dev = device_;
  return [d, dev](const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond, double s,
                  double sb) mutable {
    torch::NoGradGuard no_grad;
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
    auto scales = torch::tensor({static_cast<float>(s), static_cast<float>(sb)}, opts).repeat({z.size(0), 1});
    return d->forward(z.to(dev), t.to(dev), cond.defined() ? cond.to(dev) : at::Tensor(), {}, scales);
  };
}

at::Tensor expert_condition(const DiffusionExpertSpec& spec, const at::Tensor& partner,
                            const at::Tensor& envelope) {
  if (spec.rhythm_channels() == 0) return partner;
  const at::Tensor e =
      fit_rhythm_length(envelope, partner.size(1)).to(partner.device(), partner.scalar_type());
  return spec.uses_partner_latent() ? torch::cat({partner, e}, 0) : e;
}

}  // namespace momu

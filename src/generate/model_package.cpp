#include "generate/model_package.h"
#include "momu/generate/model_sampling.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

#include "core/atomic_file.h"
#include "core/checkpoint_dir.h"
#include "core/json_file.h"
#include "diffusion/diffusion_expert.h"
#include "io/safetensors.h"
#include "model/bicor_vae.h"
#include "momu/core/error.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

constexpr double kHalfMax = 65504.0;

// Copies one checkpoint's weights into `dst`/model.safetensors, converting floating-point
// tensors to `dtype`, and returns what it measured.
PackedPart pack_weights(const std::string& name, const fs::path& src, const fs::path& dst,
                        WeightDtype dtype) {
  PackedPart part;
  part.name = name;
  part.source = src;
  const fs::path file = src / "model.safetensors";
  SafetensorsFile in = load_safetensors(file);
  std::map<std::string, at::Tensor> out;
  for (const auto& [key, t] : in.tensors) {
    if (!t.is_floating_point()) {
      out[key] = t;
      continue;
    }
    const auto t64 = t.to(torch::kFloat64);
    if (!torch::isfinite(t64).all().item<bool>()) {
      throw FormatError(file.string() + ": tensor '" + key + "' has non-finite values");
    }
    const double max_abs = t64.numel() ? t64.abs().max().item<double>() : 0.0;
    part.max_abs_weight = std::max(part.max_abs_weight, max_abs);
    part.parameters += t.numel();
    at::Tensor packed = t.to(torch::kFloat32);
    if (dtype == WeightDtype::kFloat16) {
      if (max_abs > kHalfMax) {
        throw FormatError(file.string() + ": tensor '" + key + "' has |w| = " +
                          std::to_string(max_abs) + ", beyond float16's range (pack as float32)");
      }
      packed = t.to(torch::kFloat16);
    }
    if (t64.numel()) {
      part.max_abs_error = std::max(
          part.max_abs_error, (packed.to(torch::kFloat64) - t64).abs().max().item<double>());
    }
    out[key] = packed.contiguous();
  }
  auto metadata = in.metadata;
  metadata["packed_dtype"] = to_string(dtype);
  fs::create_directories(dst);
  save_safetensors(dst / "model.safetensors", out, metadata);
  part.bytes = static_cast<int64_t>(fs::file_size(dst / "model.safetensors"));
  return part;
}

bool any(const ExpertSamplerDefaults& d) {
  return d.guidance || d.clock_guidance || d.eta || d.sampler || d.steps || d.guidance_interval;
}

// The given defaults over `s`, validated. `what` names the sampler in the error of clock guidance
// for experts without a beat clock.
void apply_defaults(const ExpertSamplerDefaults& d, const DiffusionExpertSpec& spec, const std::string& what,
                    SamplerConfig& s) {
  if (d.clock_guidance && !spec.uses_clock()) {
    throw ConfigError(what + ": clock guidance for an expert without a beat clock");
  }
  if (d.guidance) s.guidance = *d.guidance;
  if (d.clock_guidance) s.clock_guidance = *d.clock_guidance;
  if (d.eta) s.eta = *d.eta;
  if (d.sampler) s.sampler = *d.sampler;
  if (d.steps) s.steps = *d.steps;
  if (d.guidance_interval) {
    s.guidance_from = d.guidance_interval->first;
    s.guidance_to = d.guidance_interval->second;
  }
  try {
    s.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(what + ": " + e.what());
  }
  if (s.sampler != "ddpm" && s.steps > spec.schedule.timesteps) {
    throw ConfigError(what + ": " + std::to_string(s.steps) + " steps exceed the expert's " +
                      std::to_string(spec.schedule.timesteps) + " diffusion timesteps");
  }
}

// config.json of the source with a "packed" record (and, for experts, the new fingerprint).
void write_config(const fs::path& src, const fs::path& dst, WeightDtype dtype,
                  const std::string& new_vae_fingerprint, const ExpertSamplerDefaults* sampler = nullptr) {
  auto cfg = read_json_file(src / "config.json");
  if (!cfg.is_object()) throw FormatError((src / "config.json").string() + ": not a JSON object");
  if (sampler && any(*sampler)) {
    DiffusionExpertSpec spec = cfg.at("model").get<DiffusionExpertSpec>();
    apply_defaults(*sampler, spec, (src / "config.json").string(), spec.sampler);
    cfg["model"]["sampler"] = spec.sampler;
  }
  if (!new_vae_fingerprint.empty()) {
    cfg["model"]["vae_fingerprint"] = new_vae_fingerprint;
    if (cfg.contains("vae") && cfg["vae"].is_object()) {
      cfg["vae"]["fingerprint"] = new_vae_fingerprint;
    }
  }
  cfg["packed"] = {{"from", src.string()}, {"dtype", to_string(dtype)}};
  write_bytes_atomically(dst / "config.json", cfg.dump(2) + "\n");
}

// <tmp>/sampling.json: the source's, with the joint overrides applied (none of either: no file).
void write_joint_sampler(const fs::path& source, const fs::path& tmp, const ExpertSamplerDefaults& joint) {
  ModelSampling sampling;
  if (!source.empty()) sampling = read_model_sampling(source);
  if (any(joint)) {
    // The dance expert joint generation uses (joint_music2motion/ when packed).
    const fs::path dance = fs::is_directory(tmp / "joint_music2motion") ? tmp / "joint_music2motion"
                                                                         : tmp / "music2motion";
    const fs::path m2a_config = dance / "config.json";
    const DiffusionExpertSpec spec = read_json_file(m2a_config).at("model").get<DiffusionExpertSpec>();
    SamplerConfig s = sampling.joint ? *sampling.joint : spec.sampler;
    apply_defaults(joint, spec, "pack-model: the joint sampler", s);
    sampling.joint = s;
  }
  if (!source.empty() || sampling.joint) write_model_sampling(tmp / "sampling.json", sampling);
}

}  // namespace

WeightDtype weight_dtype_from_string(const std::string& name) {
  if (name == "float32") return WeightDtype::kFloat32;
  if (name == "float16") return WeightDtype::kFloat16;
  throw ConfigError("weight dtype '" + name + "': expected float32 or float16");
}

std::string to_string(WeightDtype dtype) {
  return dtype == WeightDtype::kFloat16 ? "float16" : "float32";
}

int64_t PackSummary::total_bytes() const {
  int64_t n = 0;
  for (const auto& p : parts) n += p.bytes;
  return n;
}

PackSummary pack_model(const PipelinePaths& from, const fs::path& out, WeightDtype dtype,
                       const LogSink& log, const PackSamplerDefaults& samplers) {
  if (from.vae.empty() || from.motion2music.empty() || from.music2motion.empty()) {
    throw ConfigError("pack-model: a model needs a VAE and both experts (motion2music, music2motion)");
  }
  // The parts must load together as a Pipeline, named where they are: the VAE with its motion
  // stage, each expert of its direction and trained on this VAE (its recorded fingerprint), and
  // experts that agree on scales and schedule.
  (void)Pipeline::load(from);
  PackSummary summary;
  summary.out = out;
  summary.dtype = dtype;
  write_checkpoint_dir(out, [&](const fs::path& tmp) {
    summary.parts.push_back(pack_weights("vae", from.vae, tmp / "vae", dtype));
    write_config(from.vae, tmp / "vae", dtype, "");
    summary.vae_fingerprint = bicor_vae_fingerprint(tmp / "vae");
    std::vector<std::pair<std::string, fs::path>> parts{{"motion2music", from.motion2music},
                                                        {"music2motion", from.music2motion}};
    if (!from.joint_music2motion.empty()) parts.emplace_back("joint_music2motion", from.joint_music2motion);
    for (const auto& [name, src] : parts) {
      summary.parts.push_back(pack_weights(name, src, tmp / name, dtype));
      const ExpertSamplerDefaults* defaults = name == "motion2music"   ? &samplers.motion2music
                                              : name == "music2motion" ? &samplers.music2motion
                                                                       : nullptr;
      write_config(src, tmp / name, dtype, summary.vae_fingerprint, defaults);
    }
    write_joint_sampler(from.sampling, tmp, samplers.joint);
    // The packed folder must load as a pipeline before it replaces `out`.
    (void)Pipeline::load(PipelinePaths::from_model_dir(tmp));
  });
  for (const auto& p : summary.parts) {
    log_to(log, LogLevel::kInfo,
           "pack-model: " + p.name + ": " + std::to_string(p.parameters) + " weights, " +
               std::to_string(p.bytes) + " bytes, max |rounding error| " +
               std::to_string(p.max_abs_error));
  }
  return summary;
}

}  // namespace momu

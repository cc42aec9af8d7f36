// Packing a model folder for shipping (`momu pack-model`): the BiCoR-VAE and the two diffusion
// experts are copied into one folder (vae/, motion2music/, music2motion/), each with only its
// config.json and model.safetensors (no optimizer state), optionally with the weights rounded to
// float16 to halve the size. Floating-point weights are loaded back into float32 modules, so
// inference runs in float32 either way. Because the experts record the fingerprint of the VAE
// file they were trained on, the packed experts' configs are re-stamped with the packed VAE's
// fingerprint; packing refuses experts that did not come from the given VAE.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "momu/core/log.h"
#include "momu/generate/pipeline.h"

namespace momu {

enum class WeightDtype { kFloat32, kFloat16 };

// "float32" | "float16"; ConfigError otherwise.
WeightDtype weight_dtype_from_string(const std::string& name);
std::string to_string(WeightDtype dtype);

struct PackedPart {
  std::string name;              // "vae", "motion2music", "music2motion", "joint_music2motion"
  std::filesystem::path source;  // the checkpoint folder it came from
  int64_t parameters = 0;        // number of floating-point weight values
  int64_t bytes = 0;             // size of the packed model.safetensors
  double max_abs_error = 0.0;    // largest |packed - source| over its weights (0 for float32)
  double max_abs_weight = 0.0;   // largest |source weight|
};

struct PackSummary {
  std::filesystem::path out;
  WeightDtype dtype = WeightDtype::kFloat32;
  std::vector<PackedPart> parts;
  std::string vae_fingerprint;  // of the packed VAE (what the packed experts now record)
  int64_t total_bytes() const;
};

// Generation defaults to change in an expert while packing (unset: kept as trained).
struct ExpertSamplerDefaults {
  std::optional<double> guidance;        // SamplerConfig::guidance
  std::optional<double> clock_guidance;  // SamplerConfig::clock_guidance (clock experts only)
  std::optional<double> eta;             // SamplerConfig::eta (DDIM stochasticity)
  std::optional<std::string> sampler;    // SamplerConfig::sampler ("ddim", "dpmpp2m", "ddpm")
  std::optional<int> steps;              // SamplerConfig::steps (at most the schedule's T)
  // SamplerConfig::guidance_from / guidance_to
  std::optional<std::pair<double, double>> guidance_interval;
};
struct PackSamplerDefaults {
  ExpertSamplerDefaults motion2music, music2motion;
  // Joint generation's own defaults (sampling.json, include/momu/generate/model_sampling.h),
  // starting from the source model's joint sampler, else the packed music2motion expert's.
  ExpertSamplerDefaults joint;
};

// Packs `from` (the VAE and both experts are required; from.joint_music2motion, a second
// music2motion expert for joint generation, is optional) into `out`, atomically: a temporary
// sibling folder is filled and then replaces `out`. Throws ConfigError when an expert's recorded
// VAE fingerprint is not that of from.vae, or a part is missing; FormatError for weights that do
// not fit in float16 (non-finite or beyond +-65504); IoError / FormatError naming the file for
// unreadable checkpoints. Nothing is left at `out` on failure. `samplers` changes the experts'
// generation defaults (validated; clock guidance for an expert without a clock is a ConfigError).
// The source's sampling.json (from.sampling) is kept, with samplers.joint applied.
PackSummary pack_model(const PipelinePaths& from, const std::filesystem::path& out, WeightDtype dtype,
                       const LogSink& log = {}, const PackSamplerDefaults& samplers = {});

}  // namespace momu

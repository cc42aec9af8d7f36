// Sampler defaults of a model folder per task (issue 12). Each expert's config.json holds the
// sampler its single-direction task starts from (motion2music/, music2motion/); joint generation
// may need other settings (for example stronger clock guidance, which keeps a joint dance on the
// shared clock but moves a dance made for a song off the data), so a model folder can hold
//   <model>/sampling.json: {"format": "momu-sampling", "version": 1, "joint": {SamplerConfig}}
// ("joint" optional; the file optional). Without it joint generation starts from the
// music2motion expert's sampler, as before.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "momu/diffusion/sampler_config.h"

namespace momu {

struct ModelSampling {
  std::optional<SamplerConfig> joint;
};

// Strict: FormatError naming the file (not JSON, another format or version, an unknown field, a
// sampler that does not validate); IoError when it cannot be read.
ModelSampling read_model_sampling(const std::filesystem::path& file);
// Written atomically (src/core/atomic_file.h).
void write_model_sampling(const std::filesystem::path& file, const ModelSampling& sampling);

// The sampler settings of each task (Pipeline::default_samplers gives the model's).
struct TaskSamplers {
  SamplerConfig motion2music, music2motion, joint;
  // task: "motion2music" | "music2motion" | "joint"; ConfigError otherwise.
  SamplerConfig& of(const std::string& task);
  const SamplerConfig& of(const std::string& task) const;
};

}  // namespace momu

#include "momu/generate/model_sampling.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/json_fields.h"
#include "core/json_file.h"
#include "momu/core/error.h"

namespace momu {

namespace {
constexpr const char* kSamplingFormat = "momu-sampling";
constexpr int kSamplingVersion = 1;
}  // namespace

ModelSampling read_model_sampling(const std::filesystem::path& file) {
  const nlohmann::json j = read_json_file(file);
  ModelSampling s;
  try {
    JsonFields f(j, file.string());
    std::string format;
    int version = 0;
    f.require("format", format);
    if (format != kSamplingFormat) {
      throw ConfigError(file.string() + ": format '" + format + "', expected '" + kSamplingFormat + "'");
    }
    f.require("version", version);
    if (version != kSamplingVersion) {
      throw ConfigError(file.string() + ": version " + std::to_string(version) + ", this build reads " +
                        std::to_string(kSamplingVersion));
    }
    nlohmann::json joint;
    if (f.get("joint", joint)) {
      try {
        s.joint = joint.get<SamplerConfig>();
      } catch (const ConfigError& e) {
        throw ConfigError(file.string() + ": joint: " + e.what());
      }
    }
    f.finish();
  } catch (const ConfigError& e) {
    throw FormatError(e.what());
  }
  return s;
}

void write_model_sampling(const std::filesystem::path& file, const ModelSampling& sampling) {
  nlohmann::json j{{"format", kSamplingFormat}, {"version", kSamplingVersion}};
  if (sampling.joint) {
    sampling.joint->validate();
    j["joint"] = *sampling.joint;
  }
  write_bytes_atomically(file, j.dump(2) + "\n");
}

SamplerConfig& TaskSamplers::of(const std::string& task) {
  if (task == "motion2music") return motion2music;
  if (task == "music2motion") return music2motion;
  if (task == "joint") return joint;
  throw ConfigError("unknown task '" + task + "' (expected motion2music, music2motion or joint)");
}

const SamplerConfig& TaskSamplers::of(const std::string& task) const {
  return const_cast<TaskSamplers*>(this)->of(task);
}

}  // namespace momu

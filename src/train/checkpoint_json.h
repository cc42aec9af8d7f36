// Reading a checkpoint folder's JSON files (config.json, trainer/state.json) when a run resumes
// or starts from another checkpoint (private to src/train): a field of the wrong type, a missing
// part or a malformed one is a FormatError naming the file, never a bare nlohmann exception.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

#include "momu/core/error.h"

namespace momu::checkpoint_json {

// j[key] is the string `expected` (false for a missing key or another type, without throwing).
inline bool has_string(const nlohmann::json& j, const char* key, const std::string& expected) {
  return j.is_object() && j.contains(key) && j.at(key).is_string() &&
         j.at(key).get<std::string>() == expected;
}

// j[key] as T (a config struct with from_json); `file` names the JSON file in errors.
template <typename T>
T part(const nlohmann::json& j, const char* key, const std::filesystem::path& file) {
  if (!j.is_object() || !j.contains(key)) {
    throw FormatError(file.string() + ": no '" + key + "' part (a damaged checkpoint)");
  }
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(file.string() + ": '" + key + "': " + e.what());
  } catch (const Error& e) {
    throw FormatError(file.string() + ": '" + key + "': " + e.what());
  }
}

struct TrainerState {
  int64_t step = 0;
  bool has_best = false;
  double best_validation_loss = 0.0;
  int64_t world_size = 1;  // processes that trained it (absent: one)
};

// trainer/state.json: {"step": whole number >= 0, "best_validation_loss": number (optional),
// "world_size": whole number >= 1 (optional)}.
inline TrainerState trainer_state(const nlohmann::json& j, const std::filesystem::path& file) {
  const bool whole = j.is_object() && j.contains("step") && j.at("step").is_number_integer();
  const bool in_range = whole && (j.at("step").is_number_unsigned()
                                      ? j.at("step").get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)
                                      : j.at("step").get<int64_t>() >= 0);
  if (!in_range) {
    throw FormatError(file.string() + ": a trainer state needs a whole number 'step' >= 0");
  }
  TrainerState s;
  s.step = j.at("step").get<int64_t>();
  if (j.contains("best_validation_loss") && j.at("best_validation_loss").is_number()) {
    s.has_best = true;
    s.best_validation_loss = j.at("best_validation_loss").get<double>();
  }
  if (j.contains("world_size")) {
    const auto& w = j.at("world_size");
    if (!w.is_number_integer() || w.get<int64_t>() < 1) {
      throw FormatError(file.string() + ": 'world_size' must be a whole number >= 1");
    }
    s.world_size = w.get<int64_t>();
  }
  return s;
}

}  // namespace momu::checkpoint_json

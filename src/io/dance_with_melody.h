// Reader of the Dance with Melody dataset (../shared/data/dance-with-melody, see its README): one
// folder per dance with skeletons.json {"length": T, "center": [T x 3], "skeletons": [T x 23 x 3]}
// (joints relative to the root trajectory `center`, cm, y up, 25 fps) and config.json
// {"start_position": s, "end_position": e} (music frames at 25 fps).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "momu/motion/motion.h"

namespace momu {

constexpr double kDanceWithMelodyFps = 25.0;

struct DanceWithMelodyClip {
  std::string name;            // the folder name, e.g. "DANCE_C_2"
  Motion motion;               // absolute joints = skeletons + center (summed in float64, then
                               // float32, like the golden npy): [T, 23, 3], 25 fps, dwm23
  at::Tensor center;           // [T, 3] float32, the root trajectory as stored
  int64_t start_position = 0;  // the dance covers music frames start..end at 25 fps
  int64_t end_position = 0;    // (end - start is not always T: align by the start)
};

// Reads a dance folder. Throws IoError when a file is missing, FormatError naming the file and
// the problem when the JSON is truncated or has the wrong shape ("skeletons.json: frame 120 has
// 22 joints, expected 23") or holds non-finite numbers.
DanceWithMelodyClip read_dance_with_melody(const std::filesystem::path& folder);

// Reads just skeletons.json (no config.json needed): the motion as in read_dance_with_melody.
Motion read_dance_with_melody_skeletons(const std::filesystem::path& skeletons_json);

// True when `j` looks like a Dance with Melody skeletons.json (has "skeletons" and "center").
bool is_dance_with_melody_json(const nlohmann::json& j);

// The motion of a parsed skeletons.json; `what` names the file in messages.
// -> motion.joints [T, 23, 3]; center (when not null) gets [T, 3]
Motion dance_with_melody_motion(const nlohmann::json& j, const std::string& what,
                                at::Tensor* center = nullptr);

}  // namespace momu

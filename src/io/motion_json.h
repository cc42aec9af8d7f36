// momu's own JSON motion format, version 1:
//
//   {"format": "momu-motion", "version": 1,
//    "fps": 25.0,                          frames per second (> 0)
//    "skeleton": "dwm23" | {...},          a known skeleton name, or a full definition
//                                          (see to_json(Skeleton))
//    "joints": [[[x, y, z], ...], ...],    [T][J][D] numbers, D = skeleton dim, units of the
//                                          skeleton
//    "confidence": [[c, ...], ...],        optional [T][J]
//    "meta": {...}}                        optional, free-form, ignored by the reader
//
// Other keys are errors. The writer names the skeleton when it equals the built-in one of that
// name and writes the full definition otherwise; numbers are the shortest text that reads back to
// the same float32.
#pragma once

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "momu/motion/motion.h"

namespace momu {

// True when j is an object with "format": "momu-motion".
bool is_momu_motion_json(const nlohmann::json& j);

// Reads a parsed momu-motion document; FormatError naming `what` and the problem.
// -> motion.joints [T, J, D] float32
Motion parse_motion_json(const nlohmann::json& j, const std::string& what);

// Reads a momu-motion file (IoError / FormatError).
Motion read_motion_json(const std::filesystem::path& path);

// The document text of a motion (validated first).
std::string motion_json_string(const Motion& motion);

// Writes the motion atomically.
void write_motion_json(const std::filesystem::path& path, const Motion& motion);

}  // namespace momu

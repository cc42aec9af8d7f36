// Loading and saving motions in every supported format, chosen by the path:
//   .json   momu-motion (io/motion_json.h) or a Dance with Melody skeletons.json
//   .npy    [T, J, D] joint positions (D = 2 or 3), [T, J*D] with a named skeleton, or the LORIS
//           pose2d [T, 17, 3] with confidence as the 3rd channel (confidence_channel)
//   .bvh    forward kinematics of the hierarchy (momu/io/bvh.h); written by rotations from bone
//           directions
//   folder  a Dance with Melody dance folder (skeletons.json + config.json)
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>

#include "momu/io/bvh_export.h"
#include "momu/motion/motion.h"

namespace momu {

constexpr double kDefaultNpyFps = 25.0;

struct MotionLoadOptions {
  double fps = 0.0;  // frame rate of formats that store none (npy); 0: 25. Others keep their own.
  // > 0: the motion's frame rate whatever the file says (npy included; the CLI's --fps), for
  // files whose stored rate is wrong or missing.
  double fps_override = 0.0;
  // npy: the skeleton of the array (default: guessed from J and D, see guess_skeleton). Other
  // formats: when set and different from the file's skeleton, its joints are picked by name
  // (select_joints_by_name), e.g. "dwm23" from a BVH that momu exported.
  std::string skeleton;
  bool confidence_channel = false;  // npy [T, J, 3]: x, y, confidence (LORIS pose2d)
};

struct MotionSaveOptions {
  BvhExportOptions bvh;
  // npy of a 2D motion with confidence: write [T, J, 3] with confidence last (LORIS pose2d)
  // instead of the positions [T, J, 2] alone.
  bool npy_confidence_channel = false;
};

// Reads a motion; the result is validated (finite, shapes match the skeleton). Throws IoError when
// the path cannot be read, FormatError naming the file and the problem otherwise (ConfigError for
// an unknown skeleton name).
// -> joints [T, J, D] float32
Motion load_motion(const std::filesystem::path& path, const MotionLoadOptions& options = {});

// Writes a motion atomically by extension (.json, .npy, .bvh). ConfigError for another extension
// or a motion the format cannot hold (BVH: 3D with a kinematic tree).
void save_motion(const std::filesystem::path& path, const Motion& motion,
                 const MotionSaveOptions& options = {});

// The motion of a numeric array as stored in an .npy: [T, J, D], [T, J*D] (needs a skeleton) or
// [T, J, 3] with confidence (options.confidence_channel). `what` names the source.
// array: any real dtype -> joints [T, J, D] float32
Motion motion_from_array(const at::Tensor& array, const MotionLoadOptions& options,
                         const std::string& what);

// True for the extensions load_motion reads (.json, .npy, .bvh; any case).
bool is_motion_file(const std::filesystem::path& path);

}  // namespace momu

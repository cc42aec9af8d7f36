#include "momu/io/motion_file.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/file_names.h"
#include "io/dance_with_melody.h"
#include "io/io_limits.h"
#include "io/motion_json.h"
#include "io/npy.h"
#include "momu/core/error.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

Motion pick_skeleton(Motion m, const MotionLoadOptions& options, const std::string& what) {
  if (options.skeleton.empty() || options.skeleton == m.skeleton.name) return m;
  try {
    return select_joints_by_name(m, skeleton_by_name(options.skeleton));
  } catch (const FormatError& e) {
    throw FormatError(what + ": " + e.what());
  }
}

}  // namespace

bool is_motion_file(const fs::path& path) {
  const std::string ext = lower_extension(path);
  return ext == ".json" || ext == ".npy" || ext == ".bvh";
}

Motion motion_from_array(const at::Tensor& array, const MotionLoadOptions& options,
                         const std::string& what) {
  if (!array.defined() || array.numel() == 0) throw FormatError(what + ": empty array");
  if (array.scalar_type() == torch::kBool || array.is_complex()) {
    throw FormatError(what + ": expected a numeric array of joint positions");
  }
  auto a = array.to(torch::kFloat32);
  Motion m;
  m.fps = options.fps_override > 0 ? options.fps_override
                                   : (options.fps > 0 ? options.fps : kDefaultNpyFps);
  if (options.fps < 0 || options.fps_override < 0) throw ConfigError(what + ": fps must be positive");
  if (a.dim() == 2) {
    if (options.skeleton.empty()) {
      throw FormatError(what + ": a 2-D array " + c10::str(a.sizes()) +
                        " needs a skeleton name to be read as [T, J*D]");
    }
    m.skeleton = skeleton_by_name(options.skeleton);
    const int64_t JD = static_cast<int64_t>(m.skeleton.num_joints()) * m.skeleton.dim;
    if (a.size(1) != JD) {
      throw FormatError(what + ": array " + c10::str(a.sizes()) + " does not hold [T, " +
                        std::to_string(JD) + "] for skeleton '" + m.skeleton.name + "'");
    }
    a = a.reshape({a.size(0), m.skeleton.num_joints(), m.skeleton.dim});
  } else if (a.dim() != 3) {
    throw FormatError(what + ": expected joint positions [T, J, D], got " + c10::str(a.sizes()));
  }
  if (options.confidence_channel) {
    if (a.size(2) != 3) {
      throw FormatError(what + ": a confidence channel needs [T, J, 3] (x, y, confidence), got " +
                        c10::str(a.sizes()));
    }
    m.confidence = a.select(2, 2).contiguous();
    a = a.slice(2, 0, 2);
  }
  const int J = static_cast<int>(a.size(1));
  const int D = static_cast<int>(a.size(2));
  if (D != 2 && D != 3) {
    throw FormatError(what + ": the last dimension must be 2 or 3 (x, y[, z]), got " +
                      std::to_string(D));
  }
  if (m.skeleton.joint_names.empty()) {
    m.skeleton =
        options.skeleton.empty() ? guess_skeleton(J, D) : skeleton_by_name(options.skeleton);
  }
  if (m.skeleton.num_joints() != J || m.skeleton.dim != D) {
    throw FormatError(what + ": array " + c10::str(a.sizes()) + " does not match skeleton '" +
                      m.skeleton.name + "' (" + std::to_string(m.skeleton.num_joints()) +
                      " joints, " + std::to_string(m.skeleton.dim) + "D)");
  }
  io_limits::check_motion_length(a.size(0), m.fps, what);
  m.joints = a.contiguous();
  m.validate(what);
  return m;
}

Motion load_motion(const fs::path& path, const MotionLoadOptions& options) {
  const std::string what = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError(what + ": no such motion file or folder");
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(path / "skeletons.json", ec)) {
      throw IoError(what + ": a folder, but not a Dance with Melody dance (no skeletons.json)");
    }
    Motion m = pick_skeleton(read_dance_with_melody(path).motion, options, what);
    if (options.fps_override > 0) m.fps = options.fps_override;
    return m;
  }
  const std::string ext = lower_extension(path);
  Motion m;
  if (ext == ".npy") {
    return motion_from_array(read_npy(path).data, options, what);
  } else if (ext == ".bvh") {
    m = bvh_to_motion(read_bvh(path));
  } else if (ext == ".json") {
    const std::string bytes = read_file_bytes(path);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(bytes);
    } catch (const nlohmann::json::exception& e) {  // syntax, and numbers such as 1e999
      throw FormatError(what + ": not valid JSON (truncated or corrupt): " + e.what());
    }
    if (is_momu_motion_json(j)) {
      m = parse_motion_json(j, what);
    } else if (is_dance_with_melody_json(j)) {
      m = dance_with_melody_motion(j, what);
    } else {
      throw FormatError(what +
                        ": JSON that is neither a momu motion (\"format\": "
                        "\"momu-motion\") nor a Dance with Melody skeletons.json");
    }
  } else {
    throw FormatError(what + ": unknown motion format '" + ext +
                      "' (supported: .json, .npy, .bvh, a Dance with Melody folder)");
  }
  m = pick_skeleton(std::move(m), options, what);
  if (options.fps_override < 0) throw ConfigError(what + ": fps must be positive");
  if (options.fps_override > 0) m.fps = options.fps_override;
  m.validate(what);
  return m;
}

void save_motion(const fs::path& path, const Motion& motion, const MotionSaveOptions& options) {
  const std::string what = path.string();
  const std::string ext = lower_extension(path);
  if (ext != ".json" && ext != ".npy" && ext != ".bvh") {
    throw ConfigError(what + ": cannot write motion format '" + ext +
                      "' (supported: .json, .npy, .bvh)");
  }
  motion.validate(what);
  if (ext == ".json") {
    write_motion_json(path, motion);
  } else if (ext == ".npy") {
    at::Tensor array = motion.joints;
    if (options.npy_confidence_channel && motion.confidence.defined()) {
      if (motion.skeleton.dim != 2) {
        throw ConfigError(what + ": a confidence channel is written for 2D motions only");
      }
      array = torch::cat({motion.joints, motion.confidence.unsqueeze(2)}, 2);
    }
    write_npy(path, array.to(torch::kFloat32).contiguous());
  } else {
    try {
      write_bvh_motion(path, motion, options.bvh);
    } catch (const ConfigError& e) {
      throw ConfigError(what + ": " + e.what());
    }
  }
}

}  // namespace momu

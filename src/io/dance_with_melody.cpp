#include "core/json_file.h"
#include "io/dance_with_melody.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "io/io_limits.h"
#include "momu/core/error.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

// Reads a [3] array of numbers into out.
void read_xyz(const nlohmann::json& v, double* out, const std::string& what,
              const std::string& where) {
  if (!v.is_array() || v.size() != 3) {
    throw FormatError(what + ": " + where + " must be an array of 3 numbers, got " +
                      (v.is_array() ? std::to_string(v.size()) + " values" : v.type_name()));
  }
  for (int d = 0; d < 3; ++d) {
    if (!v[d].is_number()) {
      throw FormatError(what + ": " + where + " holds a " + v[d].type_name() + ", not a number");
    }
    out[d] = v[d].get<double>();
    if (!std::isfinite(out[d])) throw FormatError(what + ": " + where + " is not finite");
  }
}

int64_t read_int(const nlohmann::json& j, const char* key, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end()) throw FormatError(what + ": missing field '" + key + "'");
  if (!it->is_number_integer()) throw FormatError(what + ": '" + key + "' must be an integer");
  return it->get<int64_t>();
}

}  // namespace

bool is_dance_with_melody_json(const nlohmann::json& j) {
  return j.is_object() && j.contains("skeletons") && j.contains("center");
}

Motion dance_with_melody_motion(const nlohmann::json& j, const std::string& what,
                                at::Tensor* center_out) {
  if (!is_dance_with_melody_json(j)) {
    throw FormatError(what +
                      ": not a Dance with Melody skeletons.json (needs 'center' and "
                      "'skeletons')");
  }
  const auto& skel = j["skeletons"];
  const auto& center = j["center"];
  if (!skel.is_array()) throw FormatError(what + ": 'skeletons' must be an array of frames");
  if (!center.is_array()) throw FormatError(what + ": 'center' must be an array of frames");
  const int64_t T = static_cast<int64_t>(skel.size());
  if (j.contains("length")) {
    const int64_t length = read_int(j, "length", what);
    if (length != T) {
      throw FormatError(what + ": 'length' is " + std::to_string(length) + " but 'skeletons' has " +
                        std::to_string(T) + " frames");
    }
  }
  if (static_cast<int64_t>(center.size()) != T) {
    throw FormatError(what + ": 'center' has " + std::to_string(center.size()) +
                      " frames but 'skeletons' has " + std::to_string(T));
  }
  if (T == 0) throw FormatError(what + ": holds no frames");
  io_limits::check_motion_length(T, kDanceWithMelodyFps, what);
  Skeleton skeleton = dance_with_melody_skeleton();
  const int J = skeleton.num_joints();
  // Every frame's joint count is checked before the tables are allocated.
  for (int64_t t = 0; t < T; ++t) {
    const auto& frame = skel[t];
    if (!frame.is_array() || static_cast<int>(frame.size()) != J) {
      throw FormatError(what + ": frame " + std::to_string(t) + " has " +
                        (frame.is_array() ? std::to_string(frame.size()) + " joints"
                                          : std::string("a ") + frame.type_name()) +
                        ", expected " + std::to_string(J));
    }
  }
  auto joints = torch::empty({T, J, 3}, torch::kFloat32);
  auto centers = torch::empty({T, 3}, torch::kFloat32);
  float* out = joints.data_ptr<float>();
  float* cout = centers.data_ptr<float>();
  for (int64_t t = 0; t < T; ++t) {
    double c[3];
    read_xyz(center[t], c, what, "center of frame " + std::to_string(t));
    for (int d = 0; d < 3; ++d) cout[t * 3 + d] = static_cast<float>(c[d]);
    const auto& frame = skel[t];
    for (int jj = 0; jj < J; ++jj) {
      double p[3];
      read_xyz(frame[jj], p, what, "frame " + std::to_string(t) + ", joint " + std::to_string(jj));
      for (int d = 0; d < 3; ++d) out[(t * J + jj) * 3 + d] = static_cast<float>(p[d] + c[d]);
    }
  }
  Motion m;
  m.joints = joints;
  m.fps = kDanceWithMelodyFps;
  m.skeleton = std::move(skeleton);
  if (center_out != nullptr) *center_out = centers;
  return m;
}

Motion read_dance_with_melody_skeletons(const fs::path& skeletons_json) {
  return dance_with_melody_motion(read_json_file(skeletons_json), skeletons_json.string());
}

DanceWithMelodyClip read_dance_with_melody(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    throw IoError(folder.string() + ": not a Dance with Melody folder (no such folder)");
  }
  const fs::path skeletons = folder / "skeletons.json";
  const fs::path config = folder / "config.json";
  DanceWithMelodyClip clip;
  clip.name = folder.filename().string();
  if (clip.name.empty()) clip.name = folder.parent_path().filename().string();
  clip.motion =
      dance_with_melody_motion(read_json_file(skeletons), skeletons.string(), &clip.center);
  const nlohmann::json c = read_json_file(config);
  if (!c.is_object()) throw FormatError(config.string() + ": expected a JSON object");
  clip.start_position = read_int(c, "start_position", config.string());
  clip.end_position = read_int(c, "end_position", config.string());
  if (clip.start_position < 0 || clip.end_position < clip.start_position) {
    throw FormatError(config.string() + ": need 0 <= start_position <= end_position, got " +
                      std::to_string(clip.start_position) + ", " +
                      std::to_string(clip.end_position));
  }
  return clip;
}

}  // namespace momu

#include "io/motion_json.h"

#include <torch/torch.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "io/io_limits.h"
#include "momu/core/error.h"

namespace momu {

namespace {

constexpr const char* kMotionJsonFormat = "momu-motion";
constexpr int kMotionJsonVersion = 1;

void append_float(std::string& out, float v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

// Fills out[0..n) from a JSON array of n numbers.
void read_numbers(const nlohmann::json& v, int64_t n, float* out, const std::string& what,
                  const std::string& where) {
  if (!v.is_array() || static_cast<int64_t>(v.size()) != n) {
    throw FormatError(what + ": " + where + " must be an array of " + std::to_string(n) +
                      " numbers, got " +
                      (v.is_array() ? std::to_string(v.size()) + " values" : v.type_name()));
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!v[i].is_number()) {
      throw FormatError(what + ": " + where + " holds a " + v[i].type_name() + ", not a number");
    }
    const double x = v[i].get<double>();
    if (!std::isfinite(x)) throw FormatError(what + ": " + where + " is not finite");
    out[i] = static_cast<float>(x);
  }
}

}  // namespace

bool is_momu_motion_json(const nlohmann::json& j) {
  auto it = j.is_object() ? j.find("format") : j.end();
  return j.is_object() && it != j.end() && it->is_string() && it->get<std::string>() == kMotionJsonFormat;
}

Motion parse_motion_json(const nlohmann::json& j, const std::string& what) {
  if (!is_momu_motion_json(j)) {
    throw FormatError(what + ": not a momu motion (expected \"format\": \"momu-motion\")");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const char* known[] = {"format", "version",    "fps", "skeleton",
                                  "joints", "confidence", "meta"};
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) throw FormatError(what + ": unknown field " + io_limits::quoted_excerpt(it.key()));
  }
  // Compared as JSON numbers: get<int>() would truncate 4294967297 to 1.
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"] != kMotionJsonVersion) {
    throw FormatError(what + ": unsupported momu-motion version (this build reads version " +
                      std::to_string(kMotionJsonVersion) + ")");
  }
  Motion m;
  if (!j.contains("fps") || !j["fps"].is_number()) {
    throw FormatError(what + ": missing or non-numeric 'fps'");
  }
  m.fps = j["fps"].get<double>();
  io_limits::check_fps(m.fps, what, "'fps'");
  if (!j.contains("skeleton")) throw FormatError(what + ": missing 'skeleton'");
  try {
    const auto& s = j["skeleton"];
    m.skeleton = s.is_string() ? skeleton_by_name(s.get<std::string>()) : s.get<Skeleton>();
  } catch (const ConfigError& e) {
    throw FormatError(what + ": bad 'skeleton': " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(what + ": bad 'skeleton': " + e.what());
  }
  if (m.skeleton.num_joints() > io_limits::kMaxJoints) {
    throw FormatError(what + ": 'skeleton' has " + std::to_string(m.skeleton.num_joints()) +
                      " joints (momu reads at most " + std::to_string(io_limits::kMaxJoints) + ")");
  }
  if (!j.contains("joints") || !j["joints"].is_array()) {
    throw FormatError(what + ": missing 'joints' array [T][J][D]");
  }
  const auto& frames = j["joints"];
  const int64_t T = static_cast<int64_t>(frames.size());
  const int64_t J = m.skeleton.num_joints();
  const int64_t D = m.skeleton.dim;
  if (T == 0) throw FormatError(what + ": 'joints' holds no frames");
  io_limits::check_motion_length(T, m.fps, what);
  // Every frame's joint count is checked before the table is allocated (so its size follows
  // what the file holds).
  for (int64_t t = 0; t < T; ++t) {
    const auto& frame = frames[t];
    if (!frame.is_array() || static_cast<int64_t>(frame.size()) != J) {
      throw FormatError(what + ": frame " + std::to_string(t) + " has " +
                        (frame.is_array() ? std::to_string(frame.size()) + " joints"
                                          : std::string("a ") + frame.type_name()) +
                        ", expected " + std::to_string(J));
    }
  }
  m.joints = torch::empty({T, J, D}, torch::kFloat32);
  float* out = m.joints.data_ptr<float>();
  for (int64_t t = 0; t < T; ++t) {
    const auto& frame = frames[t];
    for (int64_t jj = 0; jj < J; ++jj) {
      read_numbers(frame[jj], D, out + (t * J + jj) * D, what,
                   "frame " + std::to_string(t) + ", joint " + std::to_string(jj));
    }
  }
  if (j.contains("confidence")) {
    const auto& conf = j["confidence"];
    if (!conf.is_array() || static_cast<int64_t>(conf.size()) != T) {
      throw FormatError(what + ": 'confidence' must have one row per frame (" + std::to_string(T) +
                        ")");
    }
    m.confidence = torch::empty({T, J}, torch::kFloat32);
    float* c = m.confidence.data_ptr<float>();
    for (int64_t t = 0; t < T; ++t) {
      read_numbers(conf[t], J, c + t * J, what, "confidence of frame " + std::to_string(t));
    }
  }
  m.validate(what);
  return m;
}

Motion read_motion_json(const std::filesystem::path& path) {
  const std::string bytes = read_file_bytes(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {  // syntax, and numbers such as 1e999
    throw FormatError(path.string() + ": not valid JSON (truncated or corrupt): " + e.what());
  }
  return parse_motion_json(j, path.string());
}

std::string motion_json_string(const Motion& motion) {
  motion.validate();
  nlohmann::json skeleton;
  bool builtin = false;
  for (const auto& name : skeleton_names()) builtin = builtin || name == motion.skeleton.name;
  if (builtin && skeleton_by_name(motion.skeleton.name) == motion.skeleton) {
    skeleton = motion.skeleton.name;
  } else {
    skeleton = motion.skeleton;
  }
  std::string out = "{\"format\": \"" + std::string(kMotionJsonFormat) +
                    "\", \"version\": " + std::to_string(kMotionJsonVersion) +
                    ", \"fps\": " + nlohmann::json(motion.fps).dump() +
                    ", \"skeleton\": " + skeleton.dump() + ",\n\"joints\": [";
  auto joints = motion.joints.contiguous();
  const int64_t T = joints.size(0), J = joints.size(1), D = joints.size(2);
  const float* p = joints.data_ptr<float>();
  out.reserve(out.size() + static_cast<size_t>(T * J * D) * 10);
  for (int64_t t = 0; t < T; ++t) {
    out += t == 0 ? "[" : ",\n[";
    for (int64_t jj = 0; jj < J; ++jj) {
      out += jj == 0 ? "[" : ", [";
      for (int64_t d = 0; d < D; ++d) {
        if (d > 0) out += ", ";
        append_float(out, p[(t * J + jj) * D + d]);
      }
      out += "]";
    }
    out += "]";
  }
  out += "]";
  if (motion.confidence.defined()) {
    auto conf = motion.confidence.to(torch::kFloat32).contiguous();
    const float* c = conf.data_ptr<float>();
    out += ",\n\"confidence\": [";
    for (int64_t t = 0; t < T; ++t) {
      out += t == 0 ? "[" : ",\n[";
      for (int64_t jj = 0; jj < J; ++jj) {
        if (jj > 0) out += ", ";
        append_float(out, c[t * J + jj]);
      }
      out += "]";
    }
    out += "]";
  }
  out += "}\n";
  return out;
}

void write_motion_json(const std::filesystem::path& path, const Motion& motion) {
  motion.validate(path.string());
  write_bytes_atomically(path, motion_json_string(motion));
}

}  // namespace momu

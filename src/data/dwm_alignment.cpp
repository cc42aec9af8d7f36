#include "data/dwm_alignment.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/json_file.h"
#include "momu/core/error.h"

namespace momu {

DwmCorrection DwmAlignment::for_clip(const std::string& name) const {
  auto it = clips.find(name);
  return it == clips.end() ? DwmCorrection{} : it->second;
}

namespace {
std::optional<double> optional_number(const nlohmann::json& j, const char* key,
                                      const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw FormatError(where + ": '" + key + "' must be a number or null");
  return it->get<double>();
}
}  // namespace

DwmAlignment DwmAlignment::load(const std::filesystem::path& path) {
  const std::string name = path.string();
  const nlohmann::json j = read_json_file(path);
  if (!j.is_object() || !j.contains("clips") || !j["clips"].is_object()) {
    throw FormatError(name + ": expected an object with a 'clips' object");
  }
  DwmAlignment a;
  if (auto d = optional_number(j, "default_fps_effective", name)) a.default_fps_effective = *d;
  for (auto it = j["clips"].begin(); it != j["clips"].end(); ++it) {
    const std::string where = name + ": clip " + it.key();
    if (!it->is_object()) throw FormatError(where + ": expected an object");
    DwmCorrection c;
    c.fps_effective = optional_number(*it, "fps_effective", where);
    c.beat_snap_s = optional_number(*it, "beat_snap_s", where);
    c.music_bpm = optional_number(*it, "music_bpm", where);
    c.usable_for_beat_level = it->value("usable_for_beat_level", true);
    c.uncertain = it->value("uncertain", false);
    c.reason = it->value("reason", std::string());
    if (c.fps_effective && (*c.fps_effective < 10.0 || *c.fps_effective > 60.0)) {
      throw FormatError(where + ": fps_effective " + std::to_string(*c.fps_effective) +
                        " is implausible");
    }
    a.clips[it.key()] = c;
  }
  return a;
}

}  // namespace momu

// Per-dance corrections of the published Dance with Melody alignment (alignment.json beside the
// dataset; see its README, "Known alignment faults"): effective motion frame rate on the music's
// time base, optional beat snap of the music start, and which dances are unusable for rhythm.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace momu {

struct DwmCorrection {
  std::optional<double> fps_effective;  // motion frame t plays at start/25 + t / fps_effective
  std::optional<double> beat_snap_s;    // shift of the music start that puts steps on the beat
  bool usable_for_beat_level = true;    // false: keep out of rhythm training and evaluation
  bool uncertain = false;               // the estimates disagree
  std::optional<double> music_bpm;
  std::string reason;                   // why it is unusable, when it is
};

struct DwmAlignment {
  double default_fps_effective = 24.70;  // for dances without their own rate
  std::map<std::string, DwmCorrection> clips;

  // The dance's correction; a dance without an entry gets the defaults (usable, default rate).
  DwmCorrection for_clip(const std::string& name) const;
  // Throws IoError / FormatError naming the file.
  static DwmAlignment load(const std::filesystem::path& path);
};

}  // namespace momu

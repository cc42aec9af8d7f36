// Settings of the stick-figure previews (`momu render`, render/stick_figure.h and
// render/render_video.h): picture, camera, look and video encoding. A plain struct, validated,
// read from and written to JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace momu {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};
inline bool operator==(Rgb a, Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
inline bool operator!=(Rgb a, Rgb b) { return !(a == b); }
std::string to_hex(Rgb c);  // "#rrggbb"
// Parses "#rrggbb"; throws ConfigError naming `what` otherwise.
Rgb rgb_from_hex(const std::string& hex, const std::string& what = "colour");

enum class Projection { kPerspective, kOrthographic };
enum class Framing { kClip, kFollow };

struct RenderConfig {
  int width = 640;  // pixels, even (H.264 4:2:0)
  int height = 480;
  double fps = 0.0;       // video frame rate; 0: the motion's rate, capped at max_fps
  double max_fps = 30.0;  // faster motions are resampled (linear interpolation) to this rate

  // Camera (3D skeletons; 2D ones are drawn in image coordinates).
  Projection projection = Projection::kPerspective;
  double azimuth_deg = 0.0;     // turn of the camera about the up axis (see the file comment)
  double elevation_deg = 15.0;  // camera above the horizon, looking down; in (-90, 90)
  double fov_deg = 40.0;        // perspective: vertical field of view that holds the figure
  Framing framing = Framing::kClip;
  double follow_smoothing_s = 1.0;  // kFollow: Gaussian sigma of the root path the camera follows
  double margin = 0.06;             // fraction of the width and height kept free on each side

  // Look.
  Rgb background{24, 24, 30};
  Rgb bone{225, 225, 225};   // bones of neither side
  Rgb left{79, 195, 247};    // bones into a joint named left_* (when color_sides)
  Rgb right{255, 138, 101};  // bones into a joint named right_*
  Rgb floor{72, 72, 86};
  bool color_sides = true;
  double line_width_px = 3.0;
  double head_radius_px = 0.0;  // disc at the "head" (or "nose") point; 0: sized from the skeleton
  bool draw_floor = true;       // 3D only
  bool draw_time = true;        // "12.3 s" in the bottom-left corner
  double min_confidence = 0.1;  // 2D keypoints below this confidence are neither drawn nor framed

  // Video.
  double audio_offset_s = 0.0;    // music time at the motion's first frame (>= 0)
  std::string ffmpeg = "ffmpeg";  // the program: a name looked up on PATH, or a path
  std::string video_codec = "libx264";
  std::string preset = "veryfast";  // x264 speed/size trade-off
  int crf = 20;                     // x264 quality (0 best .. 51 worst)
  int audio_bitrate_kbps = 160;     // AAC

  // The video frame rate for a motion at motion_fps.
  double video_fps(double motion_fps) const;
  void validate() const;  // throws ConfigError naming the field
};

void to_json(nlohmann::json& j, const RenderConfig& c);
// Strict: unknown keys and wrong types are ConfigErrors; the result is validated.
void from_json(const nlohmann::json& j, RenderConfig& c);

}  // namespace momu

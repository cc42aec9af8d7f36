// Stick-figure previews of a motion (`momu render`): frames drawn with cairo, encoded to H.264
// and muxed with the music by the ffmpeg program (Debian package ffmpeg, a child process).
//
// Camera. 3D skeletons are seen by a fixed camera around the skeleton's up axis: azimuth 0 looks
// along the axis that completes (right, up) to a right-handed frame (for y up: the camera on +z
// looking towards -z, x to the right), positive azimuth turns the camera to the right around the
// figure, positive elevation raises it to look down. The view is framed once from the whole clip
// (every joint of every frame stays inside the picture, the camera never jumps), with a floor grid
// at the lowest foot height. Framing::kFollow instead follows the root's smoothed horizontal path
// at a fixed scale (useful for dances that travel far). 2D keypoint skeletons (openpose14, coco17)
// are drawn in their image coordinates (y down), framed the same way.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "momu/core/log.h"
#include "momu/motion/motion.h"

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

// A picture: row-major RGB bytes, pixels[(y * width + x) * 3 + channel].
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  Rgb at(int x, int y) const;
};

// Draws the frames of one motion. The motion is resampled to the video rate and the camera is
// fixed from the whole clip when the renderer is built; frames can then be drawn in any order.
// Not thread-safe (one drawing surface).
class StickFigureRenderer {
 public:
  // Throws ShapeError for an empty motion, FormatError for NaN or infinite joints, ConfigError
  // for an invalid config or a skeleton without bones (e.g. a generic one: name the skeleton).
  StickFigureRenderer(const Motion& motion, const RenderConfig& config);
  ~StickFigureRenderer();
  StickFigureRenderer(StickFigureRenderer&&) noexcept;
  StickFigureRenderer& operator=(StickFigureRenderer&&) noexcept;

  const RenderConfig& config() const;
  double fps() const;          // video frames per second
  int64_t num_frames() const;  // round(motion duration * fps), at least 1
  double duration_s() const { return num_frames() / fps(); }

  // Pixel position {x right, y down} of point p (real or virtual joint) in video frame k.
  std::array<double, 2> project(int64_t frame, int point) const;
  // Whether point p is drawn in frame k (false for low-confidence 2D keypoints).
  bool visible(int64_t frame, int point) const;

  RgbImage render(int64_t frame);
  // Draws frame k and returns its pixels: height rows of width * 4 bytes, B G R X on a
  // little-endian machine (cairo RGB24 in native byte order), valid until the next call.
  const uint8_t* render_native(int64_t frame);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct RenderSummary {
  int64_t frames = 0;
  double fps = 0.0;
  double duration_s = 0.0;
  bool has_audio = false;
  double seconds = 0.0;  // wall time
};

// Writes the stick-figure video of `motion` to `out` (.mp4, .mov or .mkv): H.264 (config
// video_codec) in yuv420p, with `audio` (any file ffmpeg decodes; its first audio stream from
// config.audio_offset_s) as AAC. The video lasts exactly as long as the motion: longer music is
// cut and shorter music is padded with silence (ffmpeg `-shortest` semantics with the audio
// padded, enforced by `-t`). Written atomically: to a temporary sibling that is renamed when
// ffmpeg succeeds and removed otherwise. Throws IoError when ffmpeg is not installed (run
// scripts/setup.sh), the music file is missing, or ffmpeg fails (the message names the file and
// ends with ffmpeg's error output); the renderer's errors for bad motions and configs.
// progress: stage "render", one unit per frame.
// Whether config.ffmpeg names a program that can be run: a path to an executable file, or a name
// found in an executable file on $PATH. Lets callers refuse before long work that ends in a video.
bool ffmpeg_available(const RenderConfig& config);

RenderSummary render_video(const Motion& motion, const std::filesystem::path& out,
                           const RenderConfig& config,
                           const std::optional<std::filesystem::path>& audio = std::nullopt,
                           const ProgressCallback& progress = {});

}  // namespace momu

// Stick-figure frames of a motion drawn with cairo (`momu render`; the video around them:
// render/render_video.h, the settings: render/render_config.h).
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
#include <memory>
#include <string>
#include <vector>

#include "momu/motion/motion.h"
#include "render/render_config.h"

namespace momu {

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

}  // namespace momu

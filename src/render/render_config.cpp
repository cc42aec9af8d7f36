// RenderConfig: defaults, validation, JSON; colours as "#rrggbb".
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"
#include "render/render_config.h"

namespace momu {

std::string to_hex(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

Rgb rgb_from_hex(const std::string& hex, const std::string& what) {
  auto digit = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  bool ok = hex.size() == 7 && hex[0] == '#';
  for (size_t i = 1; ok && i < hex.size(); ++i) ok = digit(hex[i]) >= 0;
  if (!ok) throw ConfigError(what + ": expected a colour \"#rrggbb\", got \"" + hex + "\"");
  auto byte = [&](size_t i) {
    return static_cast<uint8_t>(digit(hex[i]) * 16 + digit(hex[i + 1]));
  };
  return Rgb{byte(1), byte(3), byte(5)};
}

double RenderConfig::video_fps(double motion_fps) const {
  return fps > 0.0 ? fps : std::min(motion_fps, max_fps);
}

void RenderConfig::validate() const {
  auto fail = [](const std::string& msg) { throw ConfigError("render config: " + msg); };
  auto finite = [](double v) { return std::isfinite(v); };
  if (width < 16 || height < 16 || width > 8192 || height > 8192 || width % 2 || height % 2) {
    fail("width and height must be even numbers of pixels in 16..8192 (H.264 4:2:0), got " +
         std::to_string(width) + "x" + std::to_string(height));
  }
  if (!finite(fps) || fps < 0.0) fail("fps must be >= 0 (0: the motion's rate)");
  if (!finite(max_fps) || max_fps <= 0.0) fail("max_fps must be > 0");
  if (!finite(azimuth_deg)) fail("azimuth_deg must be finite");
  if (!finite(elevation_deg) || std::abs(elevation_deg) > 89.0) {
    fail("elevation_deg must be in [-89, 89], got " + std::to_string(elevation_deg));
  }
  if (!finite(fov_deg) || fov_deg < 1.0 || fov_deg > 150.0) fail("fov_deg must be in [1, 150]");
  if (!finite(follow_smoothing_s) || follow_smoothing_s < 0.0) {
    fail("follow_smoothing_s must be >= 0");
  }
  if (!finite(margin) || margin < 0.0 || margin > 0.45) fail("margin must be in [0, 0.45]");
  if (!finite(line_width_px) || line_width_px <= 0.0 || line_width_px > 50.0) {
    fail("line_width_px must be in (0, 50]");
  }
  if (!finite(head_radius_px) || head_radius_px < 0.0) fail("head_radius_px must be >= 0");
  if (!finite(min_confidence) || min_confidence < 0.0 || min_confidence > 1.0) {
    fail("min_confidence must be in [0, 1]");
  }
  if (!finite(audio_offset_s) || audio_offset_s < 0.0) {
    fail("audio_offset_s (the music time of the first motion frame) must be >= 0");
  }
  if (ffmpeg.empty()) fail("ffmpeg (the program to run) is empty");
  if (video_codec.empty() || preset.empty()) fail("video_codec and preset must be set");
  if (crf < 0 || crf > 51) fail("crf must be in 0..51");
  if (audio_bitrate_kbps < 8 || audio_bitrate_kbps > 1024) {
    fail("audio_bitrate_kbps must be in 8..1024");
  }
}

namespace {

const char* projection_name(Projection p) {
  return p == Projection::kPerspective ? "perspective" : "orthographic";
}
const char* framing_name(Framing f) { return f == Framing::kClip ? "clip" : "follow"; }

}  // namespace

void to_json(nlohmann::json& j, const RenderConfig& c) {
  j = nlohmann::json{{"width", c.width},
                     {"height", c.height},
                     {"fps", c.fps},
                     {"max_fps", c.max_fps},
                     {"projection", projection_name(c.projection)},
                     {"azimuth_deg", c.azimuth_deg},
                     {"elevation_deg", c.elevation_deg},
                     {"fov_deg", c.fov_deg},
                     {"framing", framing_name(c.framing)},
                     {"follow_smoothing_s", c.follow_smoothing_s},
                     {"margin", c.margin},
                     {"background", to_hex(c.background)},
                     {"bone", to_hex(c.bone)},
                     {"left", to_hex(c.left)},
                     {"right", to_hex(c.right)},
                     {"floor", to_hex(c.floor)},
                     {"color_sides", c.color_sides},
                     {"line_width_px", c.line_width_px},
                     {"head_radius_px", c.head_radius_px},
                     {"draw_floor", c.draw_floor},
                     {"draw_time", c.draw_time},
                     {"min_confidence", c.min_confidence},
                     {"audio_offset_s", c.audio_offset_s},
                     {"ffmpeg", c.ffmpeg},
                     {"video_codec", c.video_codec},
                     {"preset", c.preset},
                     {"crf", c.crf},
                     {"audio_bitrate_kbps", c.audio_bitrate_kbps}};
}

void from_json(const nlohmann::json& j, RenderConfig& c) {
  JsonFields f(j, "render config");
  c = RenderConfig{};
  f.get("width", c.width);
  f.get("height", c.height);
  f.get("fps", c.fps);
  f.get("max_fps", c.max_fps);
  std::string name;
  if (f.get("projection", name)) {
    if (name == "perspective") {
      c.projection = Projection::kPerspective;
    } else if (name == "orthographic") {
      c.projection = Projection::kOrthographic;
    } else {
      throw ConfigError(
          "render config: projection must be \"perspective\" or \"orthographic\", got \"" + name +
          "\"");
    }
  }
  f.get("azimuth_deg", c.azimuth_deg);
  f.get("elevation_deg", c.elevation_deg);
  f.get("fov_deg", c.fov_deg);
  if (f.get("framing", name)) {
    if (name == "clip") {
      c.framing = Framing::kClip;
    } else if (name == "follow") {
      c.framing = Framing::kFollow;
    } else {
      throw ConfigError("render config: framing must be \"clip\" or \"follow\", got \"" + name +
                        "\"");
    }
  }
  f.get("follow_smoothing_s", c.follow_smoothing_s);
  f.get("margin", c.margin);
  const std::pair<const char*, Rgb*> colours[] = {{"background", &c.background},
                                                  {"bone", &c.bone},
                                                  {"left", &c.left},
                                                  {"right", &c.right},
                                                  {"floor", &c.floor}};
  for (const auto& [key, out] : colours) {
    if (f.get(key, name)) *out = rgb_from_hex(name, std::string("render config: ") + key);
  }
  f.get("color_sides", c.color_sides);
  f.get("line_width_px", c.line_width_px);
  f.get("head_radius_px", c.head_radius_px);
  f.get("draw_floor", c.draw_floor);
  f.get("draw_time", c.draw_time);
  f.get("min_confidence", c.min_confidence);
  f.get("audio_offset_s", c.audio_offset_s);
  f.get("ffmpeg", c.ffmpeg);
  f.get("video_codec", c.video_codec);
  f.get("preset", c.preset);
  f.get("crf", c.crf);
  f.get("audio_bitrate_kbps", c.audio_bitrate_kbps);
  f.finish();
  c.validate();
}

}  // namespace momu

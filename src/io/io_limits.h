// What the file readers of src/io accept (private to src/io): every count a header or a file
// claims is checked against these and against the bytes the file holds before anything is
// allocated, so a crafted file cannot reach an allocator or a recursion unchecked.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "momu/core/error.h"

namespace momu::io_limits {

// Motions: frame rate, length, skeleton size.
constexpr double kMinFps = 1.0;
constexpr double kMaxFps = 1000.0;
constexpr int64_t kMaxFrames = 2'000'000;
constexpr double kMaxMotionSeconds = 3.0 * 3600.0;
constexpr int64_t kMaxJoints = 4096;
// BVH hierarchies: JOINT nesting depth (the parser recurses once per level).
constexpr int kMaxBvhDepth = 256;
// Audio: decoded length.
constexpr double kMaxAudioSeconds = 3.0 * 3600.0;
// Arrays (NPY, safetensors): number of dimensions.
constexpr size_t kMaxDims = 32;

// Product of `shape` (every entry >= 0) or -1 when it does not fit in int64 (zero dimensions
// included: a shape with a 0 still refuses to overflow, as LibTorch would).
inline int64_t checked_numel(const std::vector<int64_t>& shape) {
  int64_t nonzero = 1;
  bool any_zero = false;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d == 0) {
      any_zero = true;
    } else if (nonzero > INT64_MAX / d) {
      return -1;
    } else {
      nonzero *= d;
    }
  }
  return any_zero ? 0 : nonzero;
}

// "[a, b, c]" for error messages.
inline std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Text from a file for an error message, quoted: at most `max_bytes` of it, bytes that are not
// printable ASCII or valid UTF-8 shown as \xNN, the rest cut with "..." and its length, so a
// binary or huge token cannot fill the terminal with raw bytes.
inline std::string quoted_excerpt(const std::string& text, size_t max_bytes = 40) {
  std::string out = "'";
  size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                                     : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool valid = len > 0 && i + len <= text.size() && (len == 1 || c >= 0xC2) && c <= 0xF4;
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (len == 1 && (c < 0x20 || c == 0x7F)) valid = false;
    if (!valid) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
      ++i;
    } else {
      out.append(text, i, len);
      i += len;
    }
  }
  out += "'";
  if (i < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

// A number for messages ("0.001", "1e+09").
inline std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// Throws FormatError("<what>: <field> ...") unless kMinFps <= fps <= kMaxFps.
inline void check_fps(double fps, const std::string& what, const std::string& field) {
  if (!std::isfinite(fps) || fps < kMinFps || fps > kMaxFps) {
    throw FormatError(what + ": " + field + " " + short_number(fps) +
                      " is outside the frame rates momu reads (" + short_number(kMinFps) + " to " +
                      short_number(kMaxFps) + " frames per second)");
  }
}

// Throws FormatError unless `frames` at `fps` is within kMaxFrames and kMaxMotionSeconds.
inline void check_motion_length(int64_t frames, double fps, const std::string& what) {
  if (frames > kMaxFrames || static_cast<double>(frames) / fps > kMaxMotionSeconds) {
    throw FormatError(what + ": " + std::to_string(frames) + " frames at " + short_number(fps) +
                      " fps is longer than momu reads (at most " + std::to_string(kMaxFrames) +
                      " frames and " + short_number(kMaxMotionSeconds / 3600.0) + " h)");
  }
}

}  // namespace momu::io_limits

// Frame-rate conversion of motions by linear interpolation.
//
// Output frame k samples the source at position u = k * from_fps / to_fps (in source frames):
// i0 = floor(u), w = u - i0, y[k] = (1 - w) * x[i0] + w * x[i0 + 1], computed in float64. When
// both rates are rationals with denominators up to 10000 (25, 60, 62.5, 24.7, 29.97, ...), i0
// and w come from exact integer arithmetic: for 25 -> 60 fps this is Bailando's resampling
// (golden README item 6): i0 = (25k) // 60, w = ((25k) mod 60) / 60, T60 = ((N-1)*60)//25 + 1.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "momu/motion/motion.h"

namespace momu {

// Frames of the resampled sequence that stay inside the source:
// floor((num_frames - 1) * to_fps / from_fps) + 1 (exact for rational rates); 0 for no frames.
int64_t resampled_length(int64_t num_frames, double from_fps, double to_fps);

// Frames of the same duration at to_fps: max(1, round(num_frames * to_fps / from_fps)) (what the
// VAE, the renderer and the rhythm features resample a motion to; resampled_length instead
// counts the frames that stay inside the source).
int64_t duration_frames(int64_t num_frames, double from_fps, double to_fps);

// Linear interpolation to another frame rate. out_frames < 0: resampled_length() frames;
// otherwise exactly out_frames, positions past the last source frame holding it.
// x: [T, ...] floating -> [T', ...] (same dtype; interpolated in float64)
at::Tensor resample_frames(const at::Tensor& x, double from_fps, double to_fps,
                           int64_t out_frames = -1);

// The motion (and its confidence) at to_fps.
Motion resample_motion(const Motion& motion, double to_fps, int64_t out_frames = -1);

// The motion at `fps` with its duration kept (duration_frames); the motion itself when it is at
// that rate already (within 1e-9).
Motion motion_at_rate(const Motion& motion, double fps);

}  // namespace momu

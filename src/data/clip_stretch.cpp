#include "data/clip_stretch.h"

#include <torch/torch.h>

#include <cmath>

#include "momu/core/error.h"
#include "momu/motion/resample.h"
#include "motion/directogram.h"

namespace momu {

namespace {

std::vector<double> scaled(const std::vector<double>& times, double rate, double duration_s) {
  std::vector<double> out;
  for (double t : times) {
    const double s = t / rate;
    if (s < duration_s) out.push_back(s);
  }
  return out;
}

}  // namespace

PreparedClip stretch_prepared_clip(const PreparedClip& clip, double rate) {
  if (!(rate >= 0.5 && rate <= 2.0)) {
    throw ConfigError("tempo stretch: the rate must be in [0.5, 2], got " + std::to_string(rate));
  }
  if (rate == 1.0) return clip;
  if (clip.num_frames() < 2) throw ShapeError("tempo stretch: clip " + clip.name + " has fewer than 2 frames");
  const int64_t f = clip.num_frames();
  const int64_t out = std::max<int64_t>(1, std::llround(static_cast<double>(f) / rate));
  // Reading the clip at fps * rate as if it were at fps: frame i of the result is source time i * rate.
  const double src_fps = clip.fps * rate;
  PreparedClip c = clip;
  c.mel = resample_frames(clip.mel.t(), src_fps, clip.fps, out).t().contiguous();
  c.motion = resample_frames(clip.motion, src_fps, clip.fps, out).contiguous();
  if (clip.confidence.defined()) c.confidence = resample_frames(clip.confidence, src_fps, clip.fps, out).contiguous();
  Motion m;
  m.joints = c.motion;
  m.fps = clip.fps;
  m.skeleton = clip.skeleton;
  if (c.confidence.defined()) m.confidence = c.confidence;
  c.q = motion_rhythm(m).amplitude.to(torch::kFloat32).contiguous();
  const double duration = static_cast<double>(out) / clip.fps;
  c.onsets_s = scaled(clip.onsets_s, rate, duration);
  c.beats_s = scaled(clip.beats_s, rate, duration);
  c.motion_beats_s = scaled(clip.motion_beats_s, rate, duration);
  c.q_beats_s = scaled(clip.q_beats_s, rate, duration);
  c.tempo_bpm = clip.tempo_bpm * rate;
  return c;
}

}  // namespace momu

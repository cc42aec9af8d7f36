// Beat Align Score, Bailando definition (DESIGN.md section 7, golden README item 6).
//   motion: resampled to 60 fps, v_t = mean_j ||p(t+1) - p(t)||, Gaussian sigma 5 frames, strict
//           local minima = motion beats (momu/motion/kinematic_beats.h);
//   music:  percussive part (HPSS) of the audio at 30720 Hz, median onset envelope at hop 512
//           (60 frames/s), librosa beat_track, beats b < T60 - 1 kept;
//   BAS = mean over music beats b of exp(-min_d (d - b)^2 / (2 sigma^2)), sigma 3 frames; 0 when
//         either set is empty.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "momu/audio/hpss.h"
#include "momu/motion/kinematic_beats.h"

namespace momu {

struct BeatAlignConfig {
  int music_rate_hz = 30720;  // music is loaded at this rate; hop 512 gives 60 frames/s
  int hop_length = 512;
  double sigma_frames = 3.0;       // of the score's Gaussian, in frames at kinematic.fps
  KinematicBeatsConfig kinematic;  // fps must equal music_rate_hz / hop_length
  HpssConfig hpss;

  double frames_per_second() const { return static_cast<double>(music_rate_hz) / hop_length; }
  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const BeatAlignConfig& c);
void from_json(const nlohmann::json& j, BeatAlignConfig& c);  // validates; unknown keys fail

// Music side of the score. y: [N] at config.music_rate_hz, N >= hop_length
struct BasMusicBeats {
  double tempo_bpm = 0.0;
  at::Tensor envelope;               // [1 + N / hop] float64, percussive median onset strength
  std::vector<int64_t> beat_frames;  // all beat_track frames (60 fps)
};
BasMusicBeats bas_music_beats(const at::Tensor& y, const BeatAlignConfig& config = {});

// The score of two beat sets (frames at the same rate); 0 when either is empty.
double beat_align_score_from_beats(const std::vector<int64_t>& music_beats,
                                   const std::vector<int64_t>& motion_beats, double sigma_frames);

struct BeatAlignResult {
  double bas = 0.0;
  int64_t motion_frames = 0;  // motion frames used (after cutting to the shorter duration)
  int64_t music_samples = 0;  // music samples used
  int64_t t60 = 0;            // resampled motion frames
  double music_tempo_bpm = 0.0;
  std::vector<int64_t> motion_beats;     // 60 fps frames
  std::vector<int64_t> music_beats_all;  // every beat_track frame
  std::vector<int64_t> music_beats;      // those < t60 - 1
};

void to_json(nlohmann::json& j, const BeatAlignResult& r);

// Both inputs are cut to the shorter duration first: n = min(T, floor(N fps / sr)) motion frames
// and round(n sr / fps) samples (pairs.json bas_mismatched).
// joints: [T, J, D] at fps (T >= 2), y: [N] at config.music_rate_hz -> result
BeatAlignResult beat_align_score(const at::Tensor& joints, double fps, const at::Tensor& y,
                                 const BeatAlignConfig& config = {});

}  // namespace momu

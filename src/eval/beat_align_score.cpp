// Beat Align Score (Bailando definition).
#include "momu/eval/beat_align_score.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/audio/beat.h"
#include "momu/audio/onset.h"
#include "momu/core/error.h"
#include "momu/motion/resample.h"

namespace momu {

void BeatAlignConfig::validate() const {
  if (music_rate_hz <= 0 || hop_length <= 0) {
    throw ConfigError("beat align score: music_rate_hz and hop_length must be > 0");
  }
  if (!(sigma_frames > 0.0)) throw ConfigError("beat align score: sigma_frames must be > 0");
  kinematic.validate();
  hpss.validate();
  if (std::abs(kinematic.fps - frames_per_second()) > 1e-9) {
    throw ConfigError("beat align score: kinematic.fps (" + std::to_string(kinematic.fps) +
                      ") must equal music_rate_hz / hop_length (" +
                      std::to_string(frames_per_second()) + ")");
  }
}

void to_json(nlohmann::json& j, const BeatAlignConfig& c) {
  j = {{"music_rate_hz", c.music_rate_hz},
       {"hop_length", c.hop_length},
       {"sigma_frames", c.sigma_frames},
       {"kinematic", c.kinematic},
       {"hpss", c.hpss},
       {"onset_aggregate", "median"},
       {"music", "percussive (HPSS) -> onset_strength -> beat_track"}};
}

void from_json(const nlohmann::json& j, BeatAlignConfig& c) {
  JsonFields f(j, "beat align score config");
  f.get("music_rate_hz", c.music_rate_hz);
  f.get("hop_length", c.hop_length);
  f.get("sigma_frames", c.sigma_frames);
  f.get("kinematic", c.kinematic);
  f.get("hpss", c.hpss);
  std::string ignored;
  f.get("onset_aggregate", ignored);
  f.get("music", ignored);
  f.finish();
  c.validate();
}

void to_json(nlohmann::json& j, const BeatAlignResult& r) {
  j = {{"BAS", r.bas},
       {"motion_frames", r.motion_frames},
       {"music_samples", r.music_samples},
       {"T60", r.t60},
       {"music_tempo_bpm", r.music_tempo_bpm},
       {"n_motion_beats", r.motion_beats.size()},
       {"n_music_beats", r.music_beats.size()}};
}

BasMusicBeats bas_music_beats(const at::Tensor& y, const BeatAlignConfig& config) {
  config.validate();
  if (y.dim() != 1 || y.size(0) < config.hop_length) {
    throw ShapeError(
        "beat align score: music must be [N] with N >= " + std::to_string(config.hop_length) +
        ", got " + std::to_string(y.dim()) + "-D of " + std::to_string(y.numel()) + " samples");
  }
  StftConfig sc;  // librosa.effects.percussive: n_fft 2048, hop 512
  sc.hop_length = config.hop_length;
  const at::Tensor perc = percussive(y.to(torch::kFloat64), config.hpss, sc);
  OnsetStrengthConfig oc;
  oc.sample_rate_hz = config.music_rate_hz;
  oc.hop_length = config.hop_length;
  oc.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
  BeatTrackConfig bc;
  bc.sample_rate_hz = config.music_rate_hz;
  bc.hop_length = config.hop_length;
  BasMusicBeats m;
  m.envelope = onset_strength(perc, oc);
  const BeatResult b = beat_track(m.envelope, bc);
  m.tempo_bpm = b.tempo_bpm;
  m.beat_frames = b.beat_frames;
  return m;
}

double beat_align_score_from_beats(const std::vector<int64_t>& music_beats,
                                   const std::vector<int64_t>& motion_beats, double sigma_frames) {
  if (music_beats.empty() || motion_beats.empty()) return 0.0;
  double total = 0.0;
  for (int64_t b : music_beats) {
    double best = std::numeric_limits<double>::infinity();
    for (int64_t d : motion_beats) {
      const double diff = static_cast<double>(d - b);
      best = std::min(best, diff * diff);
    }
    total += std::exp(-best / (2.0 * sigma_frames * sigma_frames));
  }
  return total / static_cast<double>(music_beats.size());
}

BeatAlignResult beat_align_score(const at::Tensor& joints, double fps, const at::Tensor& y,
                                 const BeatAlignConfig& config) {
  config.validate();
  if (joints.dim() != 3 || joints.size(0) < 2) {
    throw ShapeError("beat align score: joints must be [T, J, D] with T >= 2, got " +
                     std::to_string(joints.dim()) + "-D with " +
                     std::to_string(joints.dim() > 0 ? joints.size(0) : 0) + " frames");
  }
  if (y.dim() != 1) {
    throw ShapeError("beat align score: music must be [N], got " + std::to_string(y.dim()) + "-D");
  }
  if (!(fps > 0.0)) throw ConfigError("beat align score: fps must be > 0");
  const double sr = config.music_rate_hz;
  // floor(N fps / sr), guarded against rounding just below an integer.
  const int64_t music_frames =
      static_cast<int64_t>(std::floor(static_cast<double>(y.size(0)) * fps / sr + 1e-9));
  BeatAlignResult r;
  r.motion_frames = std::min<int64_t>(joints.size(0), music_frames);
  if (r.motion_frames < 2) {
    throw ShapeError("beat align score: fewer than 2 motion frames overlap the music (" +
                     std::to_string(r.motion_frames) + ")");
  }
  r.music_samples =
      std::min<int64_t>(y.size(0), static_cast<int64_t>(std::llround(r.motion_frames * sr / fps)));
  const KinematicBeats kb =
      kinematic_beats(joints.slice(0, 0, r.motion_frames), fps, config.kinematic);
  r.t60 = kb.num_frames;
  r.motion_beats = kb.beat_frames;
  const BasMusicBeats m = bas_music_beats(y.slice(0, 0, r.music_samples), config);
  r.music_tempo_bpm = m.tempo_bpm;
  r.music_beats_all = m.beat_frames;
  for (int64_t b : m.beat_frames) {
    if (b < r.t60 - 1) r.music_beats.push_back(b);
  }
  r.bas = beat_align_score_from_beats(r.music_beats, r.motion_beats, config.sigma_frames);
  return r;
}

}  // namespace momu

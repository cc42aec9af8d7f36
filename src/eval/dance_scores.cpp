#include "momu/eval/dance_scores.h"

#include <map>

#include <nlohmann/json.hpp>

#include "momu/audio/resample.h"
#include "motion/directogram.h"

namespace momu {

namespace {

nlohmann::json std_or_null(bool defined, double v) {
  return defined ? nlohmann::json(100 * v) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<double> motion_beat_times(const Motion& motion) {
  std::vector<double> t;
  for (int64_t f : motion_rhythm(motion).beat_frames) t.push_back(static_cast<double>(f) / motion.fps);
  return t;
}

DanceScores score_dance(const Motion& motion, const Audio& music, const DanceScoreConfig& config,
                        const std::string& name) {
  // The music at each metric's rate, resampled once per rate (beats and alignment share 22050 Hz).
  std::map<int, at::Tensor> music_by_rate;
  auto music_at = [&](int rate_hz) -> const at::Tensor& {
    auto it = music_by_rate.find(rate_hz);
    if (it == music_by_rate.end()) {
      it = music_by_rate.emplace(rate_hz, resample_audio(music.samples, music.sample_rate_hz, rate_hz)).first;
    }
    return it->second;
  };
  DanceScores s;
  if (config.beats) {
    const BeatScoreConfig& c = config.beat_scores;
    BeatPairScore b = motion_music_beat_scores(motion_beat_times(motion), motion.duration_s(),
                                               music_at(c.sample_rate_hz), c);
    b.gen = name;
    b.gt = name;
    s.beats = b;
  }
  if (config.alignment) {
    const AlignmentConfig& c = config.alignment_config;
    s.alignment = alignment_coherence(motion.joints, motion.skeleton, motion.fps,
                                      music_at(c.sample_rate_hz), c);
  }
  if (config.bas) {
    const BeatAlignConfig& c = config.bas_config;
    s.bas = beat_align_score(motion.joints, motion.fps, music_at(c.music_rate_hz), c);
  }
  return s;
}

nlohmann::json beat_summary_json(const BeatScoreSummary& s) {
  return {{"variant", s.variant},
          {"n", s.n},
          {"BCS", 100 * s.bcs},
          {"CSD", std_or_null(s.std_defined, s.csd)},
          {"BHS", 100 * s.bhs},
          {"HSD", std_or_null(s.std_defined, s.hsd)},
          {"F1", 100 * s.f1},
          {"CSD_ddof0", 100 * s.csd_ddof0},
          {"HSD_ddof0", 100 * s.hsd_ddof0}};
}

nlohmann::json summarize_dance_scores(const std::vector<DanceScores>& scores, OnsetVariant variant) {
  std::vector<BeatPairScore> beats;
  double blc = 0, bpc = 0, lag = 0, tempo = 0, blc_root = 0, bpc_root = 0, bas = 0;
  size_t n_alignment = 0, n_bas = 0;
  for (const auto& s : scores) {
    if (s.beats) beats.push_back(*s.beats);
    if (s.alignment) {
      blc += s.alignment->foot.blc;
      bpc += s.alignment->foot.bpc;
      lag += s.alignment->foot.beat_lag_s;
      tempo += s.alignment->tempo_bpm;
      blc_root += s.alignment->root.blc;
      bpc_root += s.alignment->root.bpc;
      ++n_alignment;
    }
    if (s.bas) {
      bas += s.bas->bas;
      ++n_bas;
    }
  }
  nlohmann::json j{{"n", scores.size()}};
  if (!beats.empty()) j["beat_scores"] = beat_summary_json(summarize_beat_scores(beats, variant));
  if (n_alignment > 0) {
    const double n = static_cast<double>(n_alignment);
    j["blc"] = blc / n;
    j["bpc"] = bpc / n;
    j["beat_lag_s"] = lag / n;
    j["tempo_bpm"] = tempo / n;
    j["root_vertical"] = {{"blc", blc_root / n}, {"bpc", bpc_root / n}};
  }
  if (n_bas > 0) j["bas"] = bas / static_cast<double>(n_bas);
  return j;
}

}  // namespace momu

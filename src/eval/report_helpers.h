// Small helpers shared by the evaluation reports (eval-vae, eval-generate). Internal header.
#pragma once

#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

#include "momu/eval/beat_scores.h"
#include "momu/motion/directogram.h"

namespace momu::report {

// Mean of the values; NaN when there are none.
inline double mean_of(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// LORIS-variant summary of beat-score pairs, x100 (null when there are none).
inline nlohmann::json beat_summary(const std::vector<BeatPairScore>& pairs) {
  if (pairs.empty()) return nullptr;
  const BeatScoreSummary s = summarize_beat_scores(pairs, OnsetVariant::kLoris);
  return {{"n", s.n}, {"bcs", 100 * s.bcs}, {"bhs", 100 * s.bhs}, {"f1", 100 * s.f1},
          {"csd", 100 * s.csd}, {"hsd", 100 * s.hsd}};
}

// Motion beats (peaks of the kinematic amplitude Q) in seconds.
inline std::vector<double> motion_beat_times(const Motion& m) {
  const MotionRhythm r = motion_rhythm(m);
  std::vector<double> t;
  for (int64_t f : r.beat_frames) t.push_back(static_cast<double>(f) / m.fps);
  return t;
}

}  // namespace momu::report

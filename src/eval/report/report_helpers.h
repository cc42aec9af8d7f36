// Small helpers shared by the evaluation reports (eval-vae, eval-generate). Internal header.
#pragma once

#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

#include "momu/eval/beat_scores.h"
#include "momu/eval/dance_scores.h"

namespace momu::report {

// Mean of the values; NaN when there are none.
inline double mean_of(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// LORIS-variant summary of beat-score pairs, x100, in the key scheme of every report
// (beat_summary_json); null when there are none.
inline nlohmann::json beat_summary(const std::vector<BeatPairScore>& pairs) {
  if (pairs.empty()) return nullptr;
  return beat_summary_json(summarize_beat_scores(pairs, OnsetVariant::kLoris));
}

}  // namespace momu::report

// Metric validity: does an alignment metric score real (motion, its music) pairs above
// mismatched ones? AUC of real against mismatched pairs (same style and other styles) for BAS,
// motion-beat F1, BLC and BPC on the rhythm-usable clips of a prepared split, plus the reference
// rows every generated result is compared with (real vs mismatched music and dance).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "data/prepared_clip.h"
#include "momu/core/log.h"
#include "momu/eval/alignment_coherence.h"
#include "momu/eval/beat_align_score.h"
#include "momu/eval/beat_scores.h"
#include "motion/directogram.h"

namespace momu {

// P(real > mismatched) + 0.5 P(real == mismatched) over every (real, mismatched) pair of values
// (the Mann-Whitney AUC). 0.5 when either list is empty.
double auc(const std::vector<double>& real, const std::vector<double>& mismatched);

// A metric separates real from mismatched pairs when |AUC - 0.5| > margin.
bool separates(double auc_value, double margin = 0.1);
// "separates" or "does not separate".
std::string separation_label(double auc_value, double margin = 0.1);

struct ValidityConfig {
  std::string split = "validation";  // "" for every clip
  bool rhythm_only = true;           // clips usable for rhythm only
  double separation_margin = 0.1;
  BeatAlignConfig bas;
  AlignmentConfig alignment;
  DirectogramConfig directogram;  // motion beats (peaks of Q) for the motion-beat scores
  void validate() const;          // throws ConfigError
};

void to_json(nlohmann::json& j, const ValidityConfig& c);

// Metrics of one (motion, music) pair. kind: "real", "same_style" or "other_style".
struct PairAlignmentMetrics {
  std::string motion, music, kind;
  double duration_s = 0.0;
  double bas = 0.0;
  double beat_bcs = 0.0, beat_bhs = 0.0, beat_f1 = 0.0;  // motion beats vs music onsets (LORIS)
  double blc = 0.0, bpc = 0.0, beat_lag_s = 0.0;         // foot speed
  double blc_root = 0.0, bpc_root = 0.0;                 // root vertical speed
};

void to_json(nlohmann::json& j, const PairAlignmentMetrics& m);

struct MetricValidity {
  std::string metric;  // "BAS", "motion_beat_F1", "BLC", "BPC", "BLC_root", "BPC_root"
  double auc_all = 0.5, auc_same_style = 0.5, auc_other_style = 0.5;
  double mean_real = 0.0, mean_same_style = 0.0, mean_other_style = 0.0;
  int64_t n_real = 0, n_same_style = 0, n_other_style = 0;
  std::string label;  // separation_label(auc_all)
};

void to_json(nlohmann::json& j, const MetricValidity& v);

struct ValidityReport {
  std::vector<std::string> clips;
  std::vector<PairAlignmentMetrics> pairs;  // every (motion i, music j)
  std::vector<MetricValidity> metrics;
  // Reference rows (clip i against clip i+1, wrapping, for "mismatched"):
  BeatScoreSummary music_self_loris, music_mismatched_loris, music_self_d2m, music_mismatched_d2m;
  nlohmann::json dance_rows;  // {"real": {...means}, "mismatched_next": {...}}
  double seconds = 0.0;
};

void to_json(nlohmann::json& j, const ValidityReport& r);

// Reads the split's clips (motion from the cache, audio from info["audio"] at
// info["music_start_s"] for the clip's duration) and scores every (motion, music) pair.
// Music features are computed once per clip over its whole duration; a pair uses the shorter of
// the two clips (motion frames cut, music events past the end dropped). Needs >= 2 clips.
ValidityReport metric_validity(const PreparedDataset& data, const ValidityConfig& config = {},
                               const ProgressCallback& progress = {});

}  // namespace momu

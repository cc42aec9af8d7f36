// Music beat scores (DESIGN.md section 7, golden README items 5 and 7): LORIS and D2M-GAN/CDCD
// variants of the beat coverage (BCS) and beat hit (BHS) scores over 1-second bins, and the
// music-to-motion variant (kinematic beats of a motion against its music's onsets).
// Scores are fractions here; the CLI reports them x100.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "momu/audio/onset.h"

namespace momu {

struct BeatScoreConfig {
  OnsetVariant variant = OnsetVariant::kLoris;  // onset protocol and BCS formula
  int sample_rate_hz = 22050;                   // both signals are loaded at this rate
  double bin_s = 1.0;                           // bin width
  void validate() const;                        // throws ConfigError
};

void to_json(nlohmann::json& j, const BeatScoreConfig& c);
void from_json(const nlohmann::json& j, BeatScoreConfig& c);  // validates; unknown keys fail

// One (generated, ground-truth) pair. gen_beats / gt_beats = occupied bins, hits = bins occupied
// in both. LORIS: bcs = hits / gen_beats, bhs = hits / gt_beats. D2M: bcs = gen_beats / gt_beats
// (can exceed 1), bhs = hits / gt_beats. A zero denominator gives 0.
struct BeatPairScore {
  std::string gen;  // names, for reports
  std::string gt;
  int64_t n_samples = 0;  // after cutting to the shorter signal (0 when not from audio)
  int64_t n_bins = 0;     // bins of the generated signal
  int64_t gen_beats = 0;
  int64_t gt_beats = 0;
  int64_t hits = 0;
  double bcs = 0.0;
  double bhs = 0.0;
};

void to_json(nlohmann::json& j, const BeatPairScore& s);

// Over a set of pairs: means, sample standard deviations (ddof 1; undefined for one pair, then
// csd/hsd are 0 and std_defined is false), population ones (ddof 0), F1 of the means.
struct BeatScoreSummary {
  std::string variant;
  int64_t n = 0;
  double bcs = 0.0, csd = 0.0, bhs = 0.0, hsd = 0.0, f1 = 0.0;
  double csd_ddof0 = 0.0, hsd_ddof0 = 0.0;
  bool std_defined = false;  // n >= 2
  std::vector<BeatPairScore> per_pair;
};

// Number of bins covering n_samples: ceil(n_samples / (bin_s * sample_rate_hz)).
int64_t num_beat_bins(int64_t n_samples, int sample_rate_hz, double bin_s = 1.0);

// Occupancy of n_bins bins of width bin_s: bin floor(t / bin_s) is 1 when an event falls in it
// (events outside [0, n_bins) are ignored). -> n_bins values 0/1
std::vector<uint8_t> event_bins(const std::vector<double>& times_s, int64_t n_bins,
                                double bin_s = 1.0);

// Scores of one pair of binned event sequences. The ground truth is cut to len(gen_bins) (LORIS);
// D2M requires equal lengths (ShapeError otherwise).
BeatPairScore score_beat_bins(const std::vector<uint8_t>& gen_bins,
                              const std::vector<uint8_t>& gt_bins, OnsetVariant variant);

// The golden README item 7 protocol on two signals at config.sample_rate_hz: both cut to the
// shorter length, onsets of the variant detected on the cut signals, binned over
// ceil(n / sr) bins, scored. gen, gt: [N1], [N2] real, each >= 512 samples after cutting.
BeatPairScore beat_scores_audio(const at::Tensor& gen, const at::Tensor& gt,
                                const BeatScoreConfig& config = {});

// Music-to-motion beat scores: motion beats (seconds, e.g. the peaks of Q, DESIGN.md section 3)
// play the generated role, the onsets of the music (config.variant) the ground truth. The music
// is cut to the shorter of the two, n = min(N, round(motion_duration_s * sr)) samples, onsets are
// detected on the cut signal, motion beats at or after n / sr are dropped, both binned over
// ceil(n / sr) bins. music: [N] at config.sample_rate_hz.
BeatPairScore motion_music_beat_scores(const std::vector<double>& motion_beats_s,
                                       double motion_duration_s, const at::Tensor& music,
                                       const BeatScoreConfig& config = {});

// Aggregates per-pair scores (non-empty; ConfigError otherwise).
BeatScoreSummary summarize_beat_scores(const std::vector<BeatPairScore>& pairs,
                                       OnsetVariant variant);

// Mean and standard deviation with ddof (0 or 1); for fewer than ddof + 1 values std is 0.
struct MeanStd {
  double mean = 0.0;
  double std = 0.0;
};
MeanStd mean_std(const std::vector<double>& x, int ddof);

}  // namespace momu

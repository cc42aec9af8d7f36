// The rhythm scores of a dance against its music, computed one way for every report: `momu eval
// motion-beats`, `bas` and `alignment` print them per pair, eval-generate averages them over the
// validation split. Each metric reads the music at its own rate, resampled from the audio given.
//   beats:     motion beats (peaks of the kinematic amplitude Q, DESIGN.md section 3) against the
//              music's onsets, BCS/BHS/F1 over 1 s bins (momu/eval/beat_scores.h);
//   alignment: beat-locking and beat-phase coherence BLC/BPC of the foot and root speeds
//              (momu/eval/alignment_coherence.h);
//   bas:       Bailando's Beat Align Score (momu/eval/beat_align_score.h).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

#include "momu/audio/audio.h"
#include "momu/eval/alignment_coherence.h"
#include "momu/eval/beat_align_score.h"
#include "momu/eval/beat_scores.h"
#include "momu/motion/motion.h"

namespace momu {

struct DanceScoreConfig {
  bool beats = true, alignment = true, bas = true;  // which scores to compute
  BeatScoreConfig beat_scores;  // variant (loris, d2m) and the music rate of the onsets
  AlignmentConfig alignment_config;
  BeatAlignConfig bas_config;
};

struct DanceScores {
  std::optional<BeatPairScore> beats;  // gen/gt: the names given to score_dance
  std::optional<AlignmentResult> alignment;
  std::optional<BeatAlignResult> bas;
};

// Motion beats (peaks of Q) in seconds.
std::vector<double> motion_beat_times(const Motion& motion);

// The scores the config asks for. motion: [T, J, D] at motion.fps (T >= 2), music: [N] at any
// rate covering the motion from its frame 0. ShapeError for a motion or music too short for a
// metric, FormatError for NaN.
DanceScores score_dance(const Motion& motion, const Audio& music, const DanceScoreConfig& config = {},
                        const std::string& name = "");

// The beat scores of many pairs as every report prints them (x100): {"variant", "n", "BCS", "CSD",
// "BHS", "HSD", "F1", "CSD_ddof0", "HSD_ddof0"} (the standard deviations null for one pair).
nlohmann::json beat_summary_json(const BeatScoreSummary& summary);

// Means over many dances, one key scheme for every report: {"n", "beat_scores":
// beat_summary_json (of `variant`), "blc", "bpc", "beat_lag_s", "tempo_bpm", "root_vertical":
// {"blc", "bpc"}, "bas"}; a score no dance has is left out.
nlohmann::json summarize_dance_scores(const std::vector<DanceScores>& scores,
                                      OnsetVariant variant = OnsetVariant::kLoris);

}  // namespace momu

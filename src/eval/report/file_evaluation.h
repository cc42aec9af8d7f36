// The evaluation verbs on files (`momu eval beats | motion-beats | bas | alignment | fid |
// plausibility | music-quality`): read the files or the folders' files paired by stem
// (io/file_pairs.h), score them with the metrics of eval/, and return the report the CLI prints
// with --json (per-pair rows, means, and the parameters used). A metric's ShapeError names the
// files it came from.
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/file_pairs.h"
#include "momu/audio/onset.h"
#include "momu/core/log.h"
#include "momu/io/motion_file.h"

namespace momu {

// Music beat scores of (generated, reference) audio pairs: {"variant", "n", "BCS", "CSD", "BHS",
// "HSD", "F1", "CSD_ddof0", "HSD_ddof0", "per_pair", "params"} (x100).
nlohmann::json evaluate_music_beats(const std::vector<FilePair>& pairs, OnsetVariant variant);

// The dance scores (momu/eval/dance_scores.h) of (motion, music) pairs, one metric:
// kMotionBeats: the keys of evaluate_music_beats; kBas: {"bas", "n", "per_pair", "params"};
// kAlignment: {"blc", "bpc", "beat_lag_s", "tempo_bpm", "root_vertical", "n", "per_pair", "params"}.
enum class DanceMetric { kMotionBeats, kBas, kAlignment };
nlohmann::json evaluate_dance_pairs(const std::vector<FilePair>& pairs, DanceMetric metric,
                                    const MotionLoadOptions& load, OnsetVariant variant);

// FID_k and Div_k of two folders of motions on kinetic features: {"fid_k", "div_k", "div_k_ref",
// "n_generated", "n_reference", "dim", "offset_applied", "params"}. Motions on different
// skeletons are first mapped onto dwm23 (a log line each); ShapeError when one cannot be.
nlohmann::json evaluate_fid(const std::filesystem::path& generated,
                            const std::filesystem::path& reference, const MotionLoadOptions& load,
                            const LogSink& log);

// Foot skating and bone-length deviation of a motion or a folder's motions: {"skating_ratio",
// "bone_length_deviation", "n", "per_motion", "params"}.
nlohmann::json evaluate_plausibility(const std::filesystem::path& motions,
                                     const MotionLoadOptions& load);

// Log-mel L1, spectral convergence and the Frechet audio distance (null under 2 pairs) of
// (generated, reference) audio pairs: {"logmel_l1", "spectral_convergence",
// "frechet_audio_distance", "n", "per_pair", "params"}.
nlohmann::json evaluate_music_quality(const std::vector<FilePair>& pairs);

}  // namespace momu

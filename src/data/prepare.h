// Dataset preparation: decode, align and cache every (motion, music) pair with its features
// (`momu prepare`). See prepared_clip.h for the cache layout.
#pragma once

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "audio/logmel.h"
#include "data/discover.h"
#include "data/prepared_clip.h"
#include "momu/audio/onset.h"
#include "momu/core/log.h"
#include "momu/motion/kinematic_beats.h"
#include "motion/directogram.h"

namespace momu {

struct PrepareConfig {
  LogMelConfig logmel;                 // model music features; frame rate = model frame rate
  int rhythm_sample_rate_hz = 22050;   // onsets and beats follow librosa at this rate
  OnsetVariant onset_variant = OnsetVariant::kLoris;
  DirectogramConfig directogram;       // Q(r) and its peaks
  KinematicBeatsConfig kinematic_beats;
  double min_duration_s = 2.0;         // shorter pairs are an error
  int workers = 0;                     // clips prepared in parallel; 0: all cores
  bool half_precision = false;         // store mel and motion as float16 (half the size; for
                                       // carrying a cache to another machine); read as float32

  double fps() const { return logmel.frames_per_second(); }
  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const PrepareConfig& c);

// Decodes one pair, puts motion and music on one time base (motion frame t at
// music_start_s + t / motion_fps), cuts both to the shorter, and computes the features.
// Throws IoError / FormatError naming the source file.
PreparedClip prepare_clip(const PairSource& source, const PrepareConfig& config);

struct PrepareSummary {
  int clips = 0;
  double total_duration_s = 0.0;
  double seconds = 0.0;  // wall time
};

// Prepares every source into out_dir (clips/, index.json, stats.json, motion_stats.json).
// Files are written atomically; index.json last, so an interrupted run leaves no index that
// points at missing clips. `dataset` names the layout in the index.
PrepareSummary prepare_dataset(const std::vector<PairSource>& sources,
                               const std::filesystem::path& out_dir, const PrepareConfig& config,
                               const nlohmann::json& dataset, const LogSink& log = {},
                               const ProgressCallback& progress = {});

}  // namespace momu

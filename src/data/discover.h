// Where a (motion, music) pair comes from, before preparation: the files, the segment of the
// music the motion covers, the time base, and the corrections applied. Discovery functions build
// these for each supported dataset layout.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "momu/core/log.h"
#include "momu/io/motion_file.h"

namespace momu {

struct PairSource {
  std::string name;   // unique clip name
  std::string style;  // dance style / genre label ("" when unknown)
  std::string split;  // "train", "validation", "test", or "" when no split lists it
  std::filesystem::path audio_path;
  std::filesystem::path motion_path;  // a motion file or a Dance with Melody folder
  MotionLoadOptions motion_options;
  double music_start_s = 0.0;  // music time of motion frame 0
  // Frame rate of the motion on the music's time base: frame t plays at
  // music_start_s + t / motion_fps. 0: the motion file's own rate.
  double motion_fps = 0.0;
  bool motion_spans_audio = false;  // motion_fps = frames / audio duration (LORIS segments)
  bool usable_for_rhythm = true;  // false: keep out of rhythm training and evaluation
  nlohmann::json corrections = nlohmann::json::object();  // what was applied, recorded in the cache
};

// Dance with Melody (one folder per dance + alignment.json, see the dataset README).
struct DwmLayoutOptions {
  bool corrected_time_base = true;  // per-dance fps_effective (false: the published 25 fps)
  bool beat_snap = false;           // shift the music start by beat_snap_s
  std::filesystem::path alignment;  // default: <root>/alignment.json (required when correcting)
  std::filesystem::path split;      // a split list (data/splits/dwm.json); empty: no split
};
std::vector<PairSource> discover_dance_with_melody(const std::filesystem::path& root,
                                                   const DwmLayoutOptions& options,
                                                   const LogSink& log = {});

// Generic pairs: a folder (searched recursively) of motion files (.json/.npy/.bvh) and music files
// (.wav/.flac/.ogg/.mp3) matched by file stem; the motion starts with the music. Unmatched files
// are reported through `log`; no pair at all is a FormatError.
struct PairsLayoutOptions {
  MotionLoadOptions motion;         // fps / skeleton for .npy
  std::filesystem::path split;      // optional split list
};
std::vector<PairSource> discover_pairs(const std::filesystem::path& root,
                                       const PairsLayoutOptions& options, const LogSink& log = {});

// LORIS benchmark: <root>/<set>_pose2d_<len>_<split>_segment.txt and
// <root>/<set>_audio_<len>_<split>_segment.txt list the segments line by line (paired by line);
// listed paths are resolved by their last two components under <root> (so the upstream
// "yourpath/dataset/LORIS/..." prefixes work). pose2d: [T, 17, 3] COCO keypoints with confidence.
// The motion rate is T / audio duration unless motion.fps is given.
struct LorisLayoutOptions {
  MotionLoadOptions motion;
};
std::vector<PairSource> discover_loris(const std::filesystem::path& root,
                                       const LorisLayoutOptions& options, const LogSink& log = {});

// AIST++: <root>/keypoints3d/<seq>.npy (COCO-17 3D, [T, 17, 3], 60 fps) or keypoints2d/<seq>.npy,
// music in <root>/wav/<music id>.wav where the music id is the sequence name's m-token
// (gBR_sBM_cAll_d04_mBR0_ch01 -> mBR0); the genre is the g-token. Upstream ships pickles: convert
// them to .npy first (README). Optional split lists <root>/splits/crossmodal_{train,val,test}.txt.
struct AistLayoutOptions {
  std::string keypoints = "keypoints3d";  // folder of [T, 17, 3] .npy arrays
  double fps = 60.0;
};
std::vector<PairSource> discover_aist(const std::filesystem::path& root,
                                      const AistLayoutOptions& options, const LogSink& log = {});

}  // namespace momu

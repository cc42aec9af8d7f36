// The prepared-data cache: one safetensors file per clip plus index.json and stats.json in a
// folder (written by `momu prepare`, read by training and evaluation).
//
// Clip file clips/<file name>.safetensors:
//   mel            [n_mels, F] float32   log-mel at the model frame rate (index.json "config")
//   motion         [F, J, D]   float32   joint positions on the music's time base, same frames
//   confidence     [F, J]      float32   (only for keypoint data with confidence)
//   q              [F]         float32   kinematic amplitude Q(r) (DESIGN.md section 3)
//   q_beats_s, onsets_s, beats_s, motion_beats_s   [n] float64   event times in seconds from
//                  the clip start: peaks of Q, music onsets (LORIS variant at 22050 Hz), music
//                  beats (librosa beat_track), Bailando kinematic beats
//   metadata "clip": the clip's index entry as JSON (name, style, split, source files, segment,
//                  corrections applied, tempo, skeleton)
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "momu/motion/skeleton.h"

namespace momu {

constexpr const char* kPreparedFormat = "momu-prepared";
constexpr int kPreparedVersion = 1;

struct PreparedClip {
  std::string name;
  std::string style;
  std::string split;
  bool usable_for_rhythm = true;
  double fps = 62.5;            // model frame rate of mel, motion and q
  double tempo_bpm = 0.0;
  Skeleton skeleton;
  at::Tensor mel;               // [n_mels, F] float32
  at::Tensor motion;            // [F, J, D] float32
  at::Tensor confidence;        // [F, J] float32 or undefined
  at::Tensor q;                 // [F] float32
  std::vector<double> onsets_s, beats_s, motion_beats_s, q_beats_s;
  nlohmann::json info;          // the clip's index entry

  int64_t num_frames() const { return mel.defined() ? mel.size(1) : 0; }
  double duration_s() const { return num_frames() / fps; }
};

// File name of a clip in clips/ ("dance/gBR_x" -> "dance__gBR_x.safetensors").
std::string prepared_clip_file_name(const std::string& clip_name);

// Writes atomically. Throws ShapeError when the tensors disagree on F.
void save_prepared_clip(const std::filesystem::path& path, const PreparedClip& clip);

// Reads and checks a clip file (shapes agree, finite values). Throws IoError / FormatError.
PreparedClip load_prepared_clip(const std::filesystem::path& path);

// A prepared folder: index.json + clips/.
struct PreparedDataset {
  std::filesystem::path root;
  nlohmann::json index;  // index.json

  // Throws IoError / FormatError naming the file (missing index, wrong format or version).
  static PreparedDataset open(const std::filesystem::path& root);
  // Names of the clips of a split ("" for all), in index order.
  std::vector<std::string> clip_names(const std::string& split = "",
                                      bool rhythm_only = false) const;
  PreparedClip load(const std::string& clip_name) const;
};

}  // namespace momu

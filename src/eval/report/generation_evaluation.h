// The generation report (`momu eval-generate`): the three tasks of a model run on the clips of a
// split and scored with the evaluation suite (DESIGN.md section 7).
//   motion2music: the music generated for each clip's real motion against the clip's real music,
//           beat scores (LORIS variant, x100).
//   music2motion: the motion generated for each clip's real music against that music: beat scores
//           of its kinematic-amplitude peaks (LORIS variant), BLC / BPC (foot speed), Beat Align
//           Score; FID_k / Div_k of the generated motion against the real motion of the split, both
//           cut into segments of fid_segment_s.
//   joint:  `joint_samples` pairs of `joint_seconds` (seeds 0, 1, ...): the generated motion
//           against the generated music (the same scores as music2motion), the tempo each output
//           keeps (with a clock model), and Div_k / FID_k of the dances against the real dances
//           of the split (segments of fid_segment_s).
//   continuity (music2motion): mean joint acceleration at the edges of the sampler's windows over
//           its mean on all frames (1: no seams), next to the same ratio of the real motion.
// Each section also holds the same scores of the real data (real motion against its own music),
// computed in the same run, as the reference row, and a mismatched reference (with two clips or
// more): each clip's real music (motion2music) or real motion (music2motion) scored against the
// real music of the next clip of the list, both cut to the shorter one.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/prepared_clip.h"
#include "momu/core/log.h"
#include "momu/generate/pipeline.h"

namespace momu {

struct GenerationEvalOptions {
  std::string split = "validation";
  std::vector<std::string> tasks{"motion2music", "music2motion", "joint"};
  int max_clips = 0;             // 0: every clip of the split usable for rhythm
  double max_seconds = 0.0;      // > 0: only the first max_seconds of each clip
  double joint_seconds = 30.0;
  int joint_samples = 4;
  double fid_segment_s = 10.0;
  GenerateOptions generate;      // sampler settings etc.
  // Per task (Pipeline::default_samplers with the options applied); unset: generate.sampler for
  // every task.
  std::optional<TaskSamplers> samplers;
  std::filesystem::path audio_dir;  // when set: generated audio and motion of each clip go here
};

// Throws ConfigError (no usable clip, a task the model cannot run), IoError / FormatError.
nlohmann::json evaluate_generation(Pipeline& pipeline, const PreparedDataset& data,
                                   const GenerationEvalOptions& options, const LogSink& log = {},
                                   const ProgressCallback& progress = {});

}  // namespace momu

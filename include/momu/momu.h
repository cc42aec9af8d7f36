// momu's public API in one header. Everything a program needs to load a model, generate music
// for a dance, a dance for music or both, read and write the files, and score the results:
//
//   #include <momu/momu.h>
//   momu::Pipeline pipe = momu::Pipeline::load(momu::PipelinePaths::from_model_dir("models/default"));
//   momu::GenerateOptions o;
//   o.sampler = pipe.default_sampler();
//   momu::Audio song = momu::load_audio("song.ogg");
//   momu::GeneratedMotion dance = pipe.music_to_motion(song, o);
//   momu::save_motion("dance.bvh", dance.motion);
//
// Errors are momu::Error subclasses (momu/core/error.h); progress and log lines go to the
// callbacks given (momu/core/log.h); the library never prints. Other headers of the source tree
// (src/) are private: they may change without notice.
#pragma once

// Values and errors
#include "momu/audio/audio.h"
#include "momu/core/error.h"
#include "momu/core/log.h"
#include "momu/core/runtime.h"
#include "momu/motion/motion.h"
#include "momu/motion/skeleton.h"

// Files
#include "momu/io/audio_file.h"
#include "momu/io/bvh.h"
#include "momu/io/bvh_export.h"
#include "momu/io/motion_file.h"

// Generation
#include "momu/diffusion/sampler_config.h"
#include "momu/generate/model_sampling.h"
#include "momu/generate/pipeline.h"

// Signal features and motion helpers
#include "momu/audio/beat.h"
#include "momu/audio/hpss.h"
#include "momu/audio/mel.h"
#include "momu/audio/onset.h"
#include "momu/audio/resample.h"
#include "momu/audio/stft.h"
#include "momu/motion/kinematic_beats.h"
#include "momu/motion/novelty.h"
#include "momu/motion/resample.h"
#include "momu/motion/retarget.h"

// Evaluation (DESIGN.md section 6)
#include "momu/eval/alignment_coherence.h"
#include "momu/eval/beat_align_score.h"
#include "momu/eval/beat_scores.h"
#include "momu/eval/dance_scores.h"
#include "momu/eval/fid.h"
#include "momu/eval/kinetic_features.h"
#include "momu/eval/music_quality.h"
#include "momu/eval/plausibility.h"

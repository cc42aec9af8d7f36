// The generation tasks users run (DESIGN.md section 5), from files to files' contents:
// motion to music, music to motion, and joint generation, at any length. A Pipeline holds the
// BiCoR-VAE and the diffusion experts it has (either may be missing; a task that needs a
// missing one is a ConfigError). Outputs have the duration of the input to the frame.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "momu/audio/audio.h"
#include "momu/core/log.h"
#include "momu/diffusion/sampler_config.h"
#include "momu/generate/model_sampling.h"
#include "momu/motion/motion.h"
#include "momu/motion/retarget.h"
#include "momu/motion/skeleton.h"

namespace momu {

// The networks a Pipeline holds (private headers model/bicor_vae.h and
// diffusion/diffusion_expert.h; a user needs neither to generate).
class BicorVae;
class DiffusionExpert;

// Where a model's parts are. A model folder holds vae/, motion2music/ and music2motion/, and may
// hold sampling.json (per-task sampler defaults, include/momu/generate/model_sampling.h).
struct PipelinePaths {
  std::filesystem::path vae;
  std::filesystem::path motion2music;  // empty: not loaded
  std::filesystem::path music2motion;  // empty: not loaded
  // An optional music2motion expert for joint generation only (joint_music2motion/: one trained
  // for the wider range of tempi `--bpm` asks for); empty: joint generation uses music2motion.
  std::filesystem::path joint_music2motion;
  std::filesystem::path sampling;      // empty: none
  static PipelinePaths from_model_dir(const std::filesystem::path& dir);
};

struct GenerateOptions {
  SamplerConfig sampler;          // start from Pipeline::default_sampler() and override
  bool bone_postprocess = true;   // clamp bone lengths to the training range
  bool keep_on_floor = true;      // remove slow vertical drift of the decoded root (keep_on_floor, 2 s)
  static constexpr int kMaxGriffinLimIterations = 10000;
  int griffin_lim_iterations = 32;  // 0 .. kMaxGriffinLimIterations
  double motion_fps = 30.0;       // frame rate of generated motion
  // Experts with a "clock" condition (src/model/clock_condition.h):
  double bpm = 0.0;               // joint generation: the shared clock's tempo (0: one of the
                                  // training tempi, drawn with the seed)
  double clock_shift_beats = 0.0; // moves the partner's clock (motion2music, music2motion): a
                                  // check that the output follows it
  // A post-process, any expert (motion2music, music2motion; outputs of 2 s or more): warp the
  // output in time so that its own beat clock lands on the partner's (core/beat_clock.h
  // warp_to_beat_clock). It hides what the model does, so report it as its own row.
  bool beat_lock = false;
};

struct GenerateTimings {
  double encode_s = 0, sampling_s = 0, decode_s = 0, vocoder_s = 0;
  // Floating-point work of the denoiser calls made while sampling, in GFLOP (denoiser_flops per
  // window; machine-independent: divide by the output's seconds for GFLOP per second of output).
  double denoiser_gflop = 0;
  double total() const { return encode_s + sampling_s + decode_s + vocoder_s; }
};

struct GeneratedMusic {
  at::Tensor latent;  // [d, L] (unscaled)
  // How the input motion was mapped onto the model's skeleton (momu/motion/retarget.h);
  // identity when it was on it already.
  RetargetReport retarget;
  double clock_tempo_bpm = 0.0;   // mean tempo of the clock the expert followed (0: none)
  double clock_confidence = 0.0;  // the clock's confidence (src/core/beat_clock.h)
  at::Tensor logmel;  // [n_mels, F] log10 mel
  Audio audio;        // mono at the VAE's sample rate
};

struct GeneratedMotion {
  at::Tensor latent;  // [d, L] (unscaled)
  double clock_tempo_bpm = 0.0;
  double clock_confidence = 0.0;
  Motion motion;      // at GenerateOptions::motion_fps
};

class Pipeline {
 public:
  Pipeline();
  ~Pipeline();
  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(Pipeline&&) noexcept;

  // Throws IoError / FormatError naming the folder; ConfigError when an expert was trained on
  // another VAE (fingerprints differ) or the experts disagree on the latent scales.
  static Pipeline load(const PipelinePaths& paths, const std::string& device = "cpu");

  // The model's music sample rate (outputs of motion_to_music; music_to_motion resamples its
  // input to it) and the skeleton its dances are on (motion_to_music retargets onto it).
  int sample_rate_hz() const;
  const Skeleton& skeleton() const;
  // The networks, for tools that work on latents (private headers; see above).
  BicorVae& vae() { return *vae_; }
  bool has_motion2music() const { return motion2music_ != nullptr; }
  bool has_music2motion() const { return music2motion_ != nullptr; }
  DiffusionExpert& motion2music();  // throws ConfigError when not loaded
  DiffusionExpert& music2motion();
  bool has_joint_music2motion() const { return joint_music2motion_ != nullptr; }
  // The dance expert joint generation uses: joint_music2motion when loaded, else music2motion.
  DiffusionExpert& joint_dance_expert();
  // The sampler defaults saved with the model, per task: motion2music and music2motion their
  // expert's (the other expert's when one is missing), joint the model's sampling.json "joint"
  // entry, else the music2motion expert's.
  TaskSamplers default_samplers() const;
  // The music2motion task's default (default_samplers().music2motion).
  SamplerConfig default_sampler() const;
  // T of the loaded experts' schedule (the most DDIM steps there can be); 0 with no expert.
  int64_t schedule_timesteps() const;

  // Music for a motion on any 3D skeleton with recognisable joints (retargeted onto the model's,
  // momu/motion/retarget.h): audio of exactly the motion's duration. Progress: sampler steps.
  GeneratedMusic motion_to_music(const Motion& motion, const GenerateOptions& options,
                                 GenerateTimings* timings = nullptr,
                                 const ProgressCallback& progress = {});
  // Motion for music (any sample rate; resampled). Duration of the audio, to the output frame.
  GeneratedMotion music_to_motion(const Audio& audio, const GenerateOptions& options,
                                  GenerateTimings* timings = nullptr,
                                  const ProgressCallback& progress = {});
  // Both, `seconds` long (cross-guidance, sampler.tc); with "clock" experts both follow one
  // steady clock at options.bpm.
  std::pair<GeneratedMusic, GeneratedMotion> joint(double seconds, const GenerateOptions& options,
                                                   GenerateTimings* timings = nullptr,
                                                   const ProgressCallback& progress = {});

  // Building blocks (scaled latents are what the experts see).
  // latent z_a [d, L] -> GeneratedMusic with `samples` samples (vocoded)
  GeneratedMusic decode_music(const at::Tensor& latent, int64_t frames, int64_t samples,
                              const GenerateOptions& options, GenerateTimings* timings);
  // latent z_m [d, L] -> motion of `seconds` at options.motion_fps
  GeneratedMotion decode_motion(const at::Tensor& latent, int64_t frames, double seconds,
                                const GenerateOptions& options, GenerateTimings* timings);
  // Griffin-Lim of a log-mel [n_mels, F], cut or zero-padded to `samples`.
  Audio vocode(const at::Tensor& logmel, int64_t samples, const GenerateOptions& options,
               GenerateTimings* timings);

 private:
  std::unique_ptr<BicorVae> vae_;
  std::unique_ptr<DiffusionExpert> motion2music_, music2motion_, joint_music2motion_;
  std::optional<SamplerConfig> joint_sampler_;  // from sampling.json
};

}  // namespace momu

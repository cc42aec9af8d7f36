// BiCoR-VAE as one object: the music VAE, the motion VAE (after the second training stage), the
// normalisation of their inputs, and the conversions users need: log-mel or motion to latents and
// back (DESIGN.md sections 2-3). Both latents run at the same rate (logmel fps / 2^n), so a clip's
// two latent sequences have the same length.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "audio/logmel.h"
#include "momu/audio/audio.h"
#include "momu/core/log.h"
#include "model/conv_vae.h"
#include "model/rhythm_contrastive.h"
#include "model/vae_config.h"
#include "momu/motion/motion.h"
#include "motion/normalize.h"
#include "momu/motion/skeleton.h"

namespace momu {

constexpr const char* kBicorVaeFormat = "momu-bicor-vae";
constexpr int kBicorVaeVersion = 1;

// Everything about a BiCoR-VAE except its weights (the "model" object of config.json).
struct BicorVaeSpec {
  VaeConfig music;
  std::optional<VaeConfig> motion;  // absent until the motion stage has run
  ContrastiveConfig contrastive;
  LogMelConfig logmel;
  std::vector<double> music_mean, music_std;  // per mel band, from the training split
  Skeleton skeleton;                          // of the motion VAE
  MotionStats motion_stats;                   // of the motion VAE
  // Long inputs are encoded and decoded in chunks of chunk_frames input frames with
  // chunk_context frames of context on each side (both at the logmel rate).
  int chunk_frames = 1024;
  int chunk_context = 128;

  int time_compression() const { return music.time_compression(); }
  double frame_rate() const { return logmel.frames_per_second(); }
  double latent_rate() const { return frame_rate() / time_compression(); }
  void validate() const;  // throws ConfigError
};
void to_json(nlohmann::json& j, const BicorVaeSpec& s);
void from_json(const nlohmann::json& j, BicorVaeSpec& s);  // strict; validates

// Identity of a checkpoint's weights: FNV-1a (64 bit, hex) of <dir>/model.safetensors. Diffusion
// experts record the fingerprint of the VAE whose latents they learned. Throws IoError.
std::string bicor_vae_fingerprint(const std::filesystem::path& checkpoint_dir);

// A clip of audio and its music latents (BicorVae::encode_audio).
struct EncodedAudio {
  at::Tensor logmel;  // [n_mels, F] log-mel at the VAE's sample rate
  at::Tensor latent;  // z_a [d, ceil(F / 2^n)] on the VAE's device
};

// Music latents back to sound (BicorVae::decode_audio).
struct DecodedAudio {
  at::Tensor logmel;  // [n_mels, F] the decoded log-mel, the frames kept (CPU)
  Audio audio;        // mono at the VAE's sample rate (CPU)
};

class BicorVae {
 public:
  explicit BicorVae(const BicorVaeSpec& spec);  // random weights

  // Reads <dir>/config.json and <dir>/model.safetensors (EMA weights) onto `device`.
  // Throws IoError / FormatError naming the file (wrong format, missing or misshapen tensors).
  static BicorVae load(const std::filesystem::path& dir, const std::string& device = "cpu");

  const BicorVaeSpec& spec() const { return spec_; }
  bool has_motion() const { return spec_.motion.has_value(); }
  ConvVae& music() { return music_; }
  ConvVae& motion();  // throws ConfigError when the motion stage has not run
  torch::Device device() const { return device_; }
  void to(const torch::Device& device);
  void eval();

  // Normalised model inputs. mel: [n_mels, F] log-mel -> [n_mels, F]
  at::Tensor normalize_mel(const at::Tensor& mel) const;
  at::Tensor denormalize_mel(const at::Tensor& mel) const;  // [n_mels, F] -> [n_mels, F]
  // joints: [F, J, D] at frame_rate() -> [C, F] normalised features
  at::Tensor motion_features(const at::Tensor& joints) const;
  // features: [C, F], start_root: [D] -> joints [F, J, D]
  at::Tensor features_to_joints(const at::Tensor& features, const at::Tensor& start_root) const;

  // Posterior means (chunked for long inputs; padded at the end to a multiple of 2^n frames).
  // logmel: [n_mels, F] -> z_a [d, ceil(F / 2^n)]
  at::Tensor encode_music(const at::Tensor& logmel);
  // z_a: [d, L] -> logmel [n_mels, L * 2^n]
  at::Tensor decode_music(const at::Tensor& z);
  // Audio in: resampled to spec().logmel.sample_rate_hz when at another rate, its log-mel, then
  // encode_music. Throws ShapeError for samples that are not [N] with N >= 1 or a rate <= 0.
  // audio.samples: [N] -> logmel [n_mels, F], z_a [d, ceil(F / 2^n)]
  EncodedAudio encode_audio(const Audio& audio);
  // Audio out: decode_logmel, then vocode. frames <= 0 keeps every decoded frame; samples < 0
  // keeps the vocoder's length (F * hop_length). progress: the Griffin-Lim iterations.
  // z_a: [d, L] -> logmel [n_mels, F = min(frames, L * 2^n)], audio.samples [samples]
  DecodedAudio decode_audio(const at::Tensor& z, int64_t frames, int64_t samples,
                            int griffin_lim_iterations, const ProgressCallback& progress = {});
  // decode_music with the first `frames` frames kept (frames <= 0: all), on the CPU.
  // z_a: [d, L] -> logmel [n_mels, min(frames, L * 2^n)]
  at::Tensor decode_logmel(const at::Tensor& z, int64_t frames);
  // Griffin-Lim (audio/griffin_lim.h, logmel_to_audio) on the log-mel's device, cut or zero-padded
  // to exactly `samples` (samples < 0: F * hop_length), at spec().logmel.sample_rate_hz.
  // logmel: [n_mels, F] -> audio.samples [samples] float32 on the CPU
  Audio vocode(const at::Tensor& logmel, int64_t samples, int griffin_lim_iterations,
               const ProgressCallback& progress = {}) const;
  // Resampled to frame_rate() first; the skeleton must be the model's. -> z_m [d, ceil(F' / 2^n)]
  at::Tensor encode_motion(const Motion& motion);
  // joints at frame_rate(): [F, J, D] -> z_m [d, ceil(F / 2^n)]
  at::Tensor encode_motion_joints(const at::Tensor& joints);
  // z_m: [d, L], start_root [D] (where the root starts; zeros if undefined) -> Motion at
  // frame_rate() with min(frames, L * 2^n) frames (frames <= 0: all L * 2^n), on the CPU
  Motion decode_motion(const at::Tensor& z, const at::Tensor& start_root = {}, int64_t frames = 0);

 private:
  BicorVaeSpec spec_;
  ConvVae music_{nullptr};
  ConvVae motion_{nullptr};
  torch::Device device_{torch::kCPU};
};

}  // namespace momu

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

#include "momu/audio/logmel.h"
#include "momu/model/conv_vae.h"
#include "momu/model/rhythm_contrastive.h"
#include "momu/model/vae_config.h"
#include "momu/motion/motion.h"
#include "momu/motion/normalize.h"
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
  // Resampled to frame_rate() first; the skeleton must be the model's. -> z_m [d, ceil(F' / 2^n)]
  at::Tensor encode_motion(const Motion& motion);
  // joints at frame_rate(): [F, J, D] -> z_m [d, ceil(F / 2^n)]
  at::Tensor encode_motion_joints(const at::Tensor& joints);
  // z_m: [d, L], start_root [D] (where the root starts; zeros if undefined) -> Motion at
  // frame_rate() with L * 2^n frames
  Motion decode_motion(const at::Tensor& z, const at::Tensor& start_root = {});

 private:
  BicorVaeSpec spec_;
  ConvVae music_{nullptr};
  ConvVae motion_{nullptr};
  torch::Device device_{torch::kCPU};
};

}  // namespace momu

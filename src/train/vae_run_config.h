// The run configuration of BiCoR-VAE training (configs/vae_*.json, train/vae_trainer.h): both
// VAEs, the contrastive loss and both stages' training. Saved with every checkpoint.
#pragma once

#include <filesystem>

#include <nlohmann/json_fwd.hpp>

#include "model/rhythm_contrastive.h"
#include "model/vae_config.h"
#include "train/train_config.h"

namespace momu {

// A BiCoR-VAE run configuration (configs/vae_*.json): both VAEs and both stages' training.
struct VaeRunConfig {
  VaeConfig music_vae;
  VaeConfig motion_vae;        // in_channels 0: from the data's skeleton
  ContrastiveConfig contrastive;
  TrainConfig music_train;
  TrainConfig motion_train;
  int chunk_frames = 1024;     // inference chunking saved with the model (BicorVaeSpec)
  int chunk_context = 128;
  void validate() const;       // throws ConfigError
};
void to_json(nlohmann::json& j, const VaeRunConfig& c);
void from_json(const nlohmann::json& j, VaeRunConfig& c);  // strict; validates
// Reads and validates a run config file (ConfigError / FormatError naming the file).
VaeRunConfig load_vae_run_config(const std::filesystem::path& path);

}  // namespace momu

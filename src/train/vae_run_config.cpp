#include "train/vae_run_config.h"

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "core/json_file.h"
#include "momu/core/error.h"

namespace momu {

void VaeRunConfig::validate() const {
  music_vae.validate();
  motion_vae.validate();
  contrastive.validate();
  music_train.validate();
  motion_train.validate();
  if (music_vae.modality != "music") throw ConfigError("run config: music_vae.modality must be \"music\"");
  if (motion_vae.modality != "motion") throw ConfigError("run config: motion_vae.modality must be \"motion\"");
  if (music_vae.time_compression() != motion_vae.time_compression() ||
      music_vae.latent_channels != motion_vae.latent_channels) {
    throw ConfigError("run config: music_vae and motion_vae need the same num_downsamples and "
                      "latent_channels (their latents share one frame rate and width)");
  }
  if (music_train.lambda_c != 0.0) {
    throw ConfigError("run config: music_train.lambda_c must be 0 (the contrastive loss belongs "
                      "to the motion stage)");
  }
  const int k = music_vae.time_compression();
  for (const TrainConfig* t : {&music_train, &motion_train}) {
    if (t->segment_frames % k != 0) {
      throw ConfigError("run config: segment_frames must be a multiple of the time compression " +
                        std::to_string(k));
    }
  }
  const int64_t latent = motion_train.segment_frames / k;
  if (latent / contrastive.window < contrastive.windows_per_clip) {
    throw ConfigError("run config: a motion training segment of " +
                      std::to_string(motion_train.segment_frames) + " frames holds " +
                      std::to_string(latent / contrastive.window) + " contrastive windows, fewer "
                      "than windows_per_clip = " + std::to_string(contrastive.windows_per_clip));
  }
  if (chunk_frames < 8 * k || chunk_frames % k != 0 || chunk_context < 0 || chunk_context % k != 0) {
    throw ConfigError("run config: chunk_frames and chunk_context must be multiples of " +
                      std::to_string(k));
  }
}

void to_json(nlohmann::json& j, const VaeRunConfig& c) {
  j = nlohmann::json{{"music_vae", c.music_vae},       {"motion_vae", c.motion_vae},
                     {"contrastive", c.contrastive},   {"music_train", c.music_train},
                     {"motion_train", c.motion_train}, {"chunk_frames", c.chunk_frames},
                     {"chunk_context", c.chunk_context}};
}

void from_json(const nlohmann::json& j, VaeRunConfig& c) {
  JsonFields f(j, "run config");
  c.motion_vae.modality = "motion";
  c.motion_vae.in_channels = 0;
  f.get("music_vae", c.music_vae);
  f.get("motion_vae", c.motion_vae);
  f.get("contrastive", c.contrastive);
  f.get("music_train", c.music_train);
  f.get("motion_train", c.motion_train);
  f.get("chunk_frames", c.chunk_frames);
  f.get("chunk_context", c.chunk_context);
  f.finish();
  c.validate();
}

VaeRunConfig load_vae_run_config(const std::filesystem::path& path) {
  const nlohmann::json j = read_json_file(path);
  try {
    return j.get<VaeRunConfig>();
  } catch (const ConfigError& e) {
    throw ConfigError(path.string() + ": " + e.what());
  }
}

}  // namespace momu

// The config.json of a BiCoR-VAE checkpoint, read and checked without building the model
// (private to the library; BicorVae::load starts with it, and the fuzz targets and tests call it
// directly; a diffusion expert's: read_diffusion_expert_config, diffusion/diffusion_expert.h). FormatError naming the file: not JSON, another
// format or version, a 'model' object that does not validate.
#pragma once

#include <filesystem>

#include "model/bicor_vae.h"

namespace momu {

BicorVaeSpec read_bicor_vae_config(const std::filesystem::path& config_path);

}  // namespace momu

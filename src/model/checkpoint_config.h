// The config.json of a model folder's parts, read and checked without building the model
// (private to the library; BicorVae::load and DiffusionExpert::load start with these, and the
// fuzz targets and tests call them directly). FormatError naming the file: not JSON, another
// format or version, a 'model' object that does not validate.
#pragma once

#include <filesystem>

#include "momu/model/bicor_vae.h"
#include "momu/model/diffusion_expert.h"

namespace momu {

BicorVaeSpec read_bicor_vae_config(const std::filesystem::path& config_path);
DiffusionExpertSpec read_diffusion_expert_config(const std::filesystem::path& config_path);

}  // namespace momu

// BiCoR-VAE latents of a prepared dataset, computed once and cached for diffusion training
// (re-encoding every step would cost more than the denoiser). The cache is a safetensors file:
// "music/<clip>" and "motion/<clip>" [d, L] float32 posterior means (same L), with the VAE's
// fingerprint and the data folder in its metadata; a cache from another VAE is recomputed.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <vector>

#include "momu/core/log.h"
#include "momu/data/prepared_clip.h"

namespace momu {

class BicorVae;

struct LatentClip {
  std::string name;
  std::string split;
  bool usable_for_rhythm = true;
  at::Tensor music;   // [d_a, L] float32
  at::Tensor motion;  // [d_m, L] float32
};

// Loads `cache` when it exists and was made from the VAE with `fingerprint`; otherwise encodes
// every clip of `data` (progress: one unit per clip) and writes the cache atomically.
// Throws IoError / FormatError naming the file.
std::vector<LatentClip> load_or_encode_latents(const std::filesystem::path& cache,
                                               const PreparedDataset& data, BicorVae& vae,
                                               const std::string& fingerprint,
                                               const LogSink& log = {},
                                               const ProgressCallback& progress = {});

}  // namespace momu

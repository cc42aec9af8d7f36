// BiCoR-VAE latents of a prepared dataset, computed once and cached for diffusion training
// (re-encoding every step would cost more than the denoiser). The cache is a safetensors file:
// "music/<clip>" and "motion/<clip>" [d, L] float32 posterior means (same L), with the VAE's
// fingerprint and the data folder in its metadata; a cache from another VAE is recomputed.
// With tempo augmentation, the training clips also enter stretched by each rate != 1
// (src/data/clip_stretch.h), cached as "music/<clip>@<rate>" and "motion/<clip>@<rate>".
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/prepared_clip.h"
#include "momu/core/log.h"

namespace momu {

class BicorVae;

struct LatentClip {
  std::string name;
  std::string split;
  bool usable_for_rhythm = true;
  double rate = 1.0;  // tempo stretch (1: the clip itself)
  at::Tensor music;   // [d_a, L] float32
  at::Tensor motion;  // [d_m, L] float32
};

// Loads `cache` when it exists and was made from the VAE with `fingerprint` and holds every
// entry asked for; otherwise encodes every clip of `data` at rate 1 and the training clips at
// the other `stretches` (progress: one unit per entry) and writes the cache atomically. Entries
// come clip by clip, rates in the order given (rate 1 first). write_cache false: the encoded
// latents are not written (the ranks other than 0 of a data-parallel run).
// Throws IoError / FormatError naming the file.
std::vector<LatentClip> load_or_encode_latents(const std::filesystem::path& cache,
                                               const PreparedDataset& data, BicorVae& vae,
                                               const std::string& fingerprint,
                                               const LogSink& log = {},
                                               const ProgressCallback& progress = {},
                                               const std::vector<double>& stretches = {1.0},
                                               bool write_cache = true);

// The cache key suffix of a rate: "" for 1, else "@" + the rate with 4 decimals.
std::string stretch_suffix(double rate);

}  // namespace momu

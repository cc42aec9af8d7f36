// What each fuzz target does with one input (header-only, so the fuzz targets in this folder and
// the regression test tests/io/test_fuzz_regressions.cpp run the same code). Every function
// feeds the bytes to one reader of outside input, through an in-memory API where there is one and
// through a temporary file where the reader takes a path. momu's own errors (momu::Error and its
// subclasses) are expected outcomes of bad input and are caught here; any other exception
// escapes, and libFuzzer reports it as a crash (as does a sanitizer report, a hang or a leak).
#pragma once

#include <ATen/ATen.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "audio/logmel.h"
#include "core/json_file.h"
#include "diffusion/diffusion_expert.h"
#include "diffusion/sampler.h"
#include "diffusion/schedule_config.h"
#include "io/dance_with_melody.h"
#include "io/latent_file.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "model/checkpoint_config.h"
#include "model/denoiser_config.h"
#include "model/rhythm_contrastive.h"
#include "model/vae_config.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "momu/io/bvh.h"
#include "momu/io/motion_file.h"
#include "momu/motion/skeleton.h"
#include "motion/normalize.h"
#include "train/diffusion_trainer.h"
#include "train/train_config.h"
#include "train/vae_trainer.h"

namespace momu::fuzz {

namespace fs = std::filesystem;

// One folder per process, in /dev/shm when there is one (a RAM disk: no disk writes).
inline const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("momu-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes the bytes to <scratch>/<name> and returns the path.
inline fs::path write_input(const uint8_t* data, size_t size, const std::string& name) {
  const fs::path path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::abort();  // the harness itself failed, not the library
  return path;
}

// Runs f; a momu::Error is an expected outcome.
template <typename F>
void expect_momu_errors_only(F&& f) {
  try {
    f();
  } catch (const momu::Error&) {
  }
}

// NPY: parse_npy (header, dtype, shape against the data) and, when it parses, motion_from_array
// as `momu` reads an .npy motion.
inline void run_npy(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  expect_momu_errors_only([&] {
    const NpyArray a = parse_npy(bytes, "fuzz.npy");
    motion_from_array(a.data, {}, "fuzz.npy");
  });
}

// BVH: load_motion of a .bvh file (parse_bvh, validate, forward kinematics).
inline void run_bvh(const uint8_t* data, size_t size) {
  const fs::path path = write_input(data, size, "input.bvh");
  expect_momu_errors_only([&] { load_motion(path); });
}

// JSON motions: load_motion of a .json file (momu-motion, or a Dance with Melody skeletons.json).
inline void run_motion_json(const uint8_t* data, size_t size) {
  const fs::path path = write_input(data, size, "input.json");
  expect_momu_errors_only([&] { load_motion(path); });
}

// Dance with Melody folders: the input split at the first NUL byte into skeletons.json and
// config.json (no NUL: the whole input is both), read by read_dance_with_melody.
inline void run_dance_with_melody(const uint8_t* data, size_t size) {
  const auto* nul = static_cast<const uint8_t*>(size ? std::memchr(data, 0, size) : nullptr);
  const size_t first = nul ? static_cast<size_t>(nul - data) : size;
  fs::create_directories(scratch_dir() / "DANCE_F_1");
  write_input(data, first, "DANCE_F_1/skeletons.json");
  if (nul) {
    write_input(nul + 1, size - first - 1, "DANCE_F_1/config.json");
  } else {
    write_input(data, size, "DANCE_F_1/config.json");
  }
  expect_momu_errors_only([&] { read_dance_with_melody(scratch_dir() / "DANCE_F_1"); });
}

// safetensors: load_safetensors (header length, JSON header, dtypes, shapes against the byte
// ranges, the data).
inline void run_safetensors(const uint8_t* data, size_t size) {
  const fs::path path = write_input(data, size, "input.safetensors");
  expect_momu_errors_only([&] { load_safetensors(path); });
}

// Latent files (`momu encode` output, `momu decode` input): read_latent_file (src/io/
// latent_file.h), the strict reader decode calls before it loads a model.
inline void run_latent(const uint8_t* data, size_t size) {
  const fs::path path = write_input(data, size, "input.latent.safetensors");
  expect_momu_errors_only([&] {
    const LatentFile f = read_latent_file(path);
    (void)f.latent.to(at::kFloat).sum().item<float>();
  });
}

// Audio: the first byte picks the extension (.wav, .flac, .ogg, .mp3: bits 1-2) and whether the
// audio is resampled to 22050 Hz (libsoxr) as the VAE's input is (bit 0); the rest is the file,
// read by load_audio (libsndfile decoding, downmix).
inline void run_audio(const uint8_t* data, size_t size) {
  if (size < 1) return;
  static const char* const kExt[] = {".wav", ".flac", ".ogg", ".mp3"};
  const fs::path path = write_input(data + 1, size - 1, std::string("input") + kExt[(data[0] >> 1) & 3]);
  AudioLoadOptions options;
  if (data[0] & 1) options.target_rate_hz = 22050;
  expect_momu_errors_only([&] { load_audio(path, options); });
}

template <typename T>
void read_config_as(const fs::path& path) {
  read_json_file(path).get<T>();
}

// Configs: the first byte picks the reader, the rest is the JSON file. The run configs of
// `momu train-vae` / `train-diffusion` through their loaders; the configs they nest, and the
// others users write, through read_json_file and their from_json (strict, validating:
// ConfigError, never a JSON exception).
inline void run_config(const uint8_t* data, size_t size) {
  if (size < 1) return;
  const fs::path path = write_input(data + 1, size - 1, "config.json");
  expect_momu_errors_only([&] {
    switch (data[0] % 11) {
      case 0: load_vae_run_config(path); break;
      case 1: load_diffusion_run_config(path); break;
      case 2: read_config_as<VaeConfig>(path); break;
      case 3: read_config_as<DenoiserConfig>(path); break;
      case 4: read_config_as<ScheduleConfig>(path); break;
      case 5: read_config_as<SamplerConfig>(path); break;
      case 6: read_config_as<TrainConfig>(path); break;
      case 7: read_config_as<ContrastiveConfig>(path); break;
      case 8: read_config_as<LogMelConfig>(path); break;
      case 9: read_config_as<Skeleton>(path); break;
      default: read_config_as<MotionStats>(path); break;
    }
  });
}

// Model folders: the config.json of a BiCoR-VAE checkpoint (first byte even) or of a diffusion
// expert (odd), read as BicorVae::load and DiffusionExpert::load read it before they build the
// model (src/model/checkpoint_config.h).
inline void run_model_config(const uint8_t* data, size_t size) {
  if (size < 1) return;
  const fs::path path = write_input(data + 1, size - 1, "config.json");
  expect_momu_errors_only([&] {
    if (data[0] & 1) {
      read_diffusion_expert_config(path);
    } else {
      read_bicor_vae_config(path);
    }
  });
}

}  // namespace momu::fuzz

// The libFuzzer entry points of one target.
#define MOMU_FUZZ_TARGET(run)                                                    \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                           \
    at::set_num_threads(1);                                                      \
    return 0;                                                                    \
  }                                                                              \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {      \
    momu::fuzz::run(data, size);                                                 \
    return 0;                                                                    \
  }

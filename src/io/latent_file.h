// Latent files: what `momu encode` writes and `momu decode` reads, the BiCoR-VAE latents of one
// audio or motion clip. A safetensors file (io/safetensors.h) with
//   tensors   "latent"      [d, L] float32, the posterior mean
//             "start_root"  [D] float32, motion only: where the root starts, so the decoded
//                           motion is placed back (absent: decoded from the origin)
//   metadata  "modality"        "music" or "motion"
//             "latent_rate_hz"  latents per second (std::to_string of a double)
//             "frame_rate_hz"   frames per second of the decoded output (log-mel or motion)
//             "frames"          the decoded frames to keep, at frame_rate_hz (a whole number >= 1)
//             "source"          the encoded file
//             "retarget"        motion only, when the input was retargeted onto the model's
//                               skeleton: the RetargetReport as JSON (momu/motion/retarget.h)
// Only "latent" and "modality" are required; the rest are read when present.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace momu {

struct LatentFile {
  std::string modality;        // "music" or "motion"
  at::Tensor latent;           // [d, L] (CPU; float32 as written by momu encode)
  at::Tensor start_root;       // motion: [D]; undefined when absent
  double latent_rate_hz = 0.0;  // 0: not recorded
  double frame_rate_hz = 0.0;   // 0: not recorded
  int64_t frames = 0;           // decoded frames to keep; 0: not recorded (keep them all)
  std::string source;           // the encoded file; empty: not recorded
  std::string retarget;         // RetargetReport JSON text; empty: none (identity)
};

// Writes `file` atomically (the format above; zero or empty fields are not written).
// latent: [d, L], start_root: [D] or undefined. Throws ConfigError for a modality other than
// music and motion (or a start_root with music), ShapeError for a latent that is not [d, L] or a
// start_root that is not [D], IoError when the file cannot be written.
void write_latent_file(const std::filesystem::path& path, const LatentFile& file);

// Reads a latent file strictly. Throws IoError when it cannot be read, FormatError naming the file
// when it is not a safetensors file, has no "latent" tensor or no "modality", a modality other
// than music and motion, a latent holding NaN or infinite values, or metadata that does not parse
// ("frames" not a whole number >= 1, a rate that is not a positive number).
// -> latent [d, L] as stored (its size is checked by the model that decodes it)
LatentFile read_latent_file(const std::filesystem::path& path);

// The check made once the model is known: FormatError naming `path` when file.frames is more than
// the latent decodes to (L * time_compression frames). A latent that is not [d, L] is left to
// the model.
void check_latent_frames(const LatentFile& file, int64_t time_compression,
                         const std::filesystem::path& path);

}  // namespace momu

// The BiCoR-VAE report (`momu eval-vae`): how well each VAE reconstructs whole clips of a split
// and how well the two latent spaces are aligned on rhythm.
//   music:  log-mel L1 (log10 units) and spectral convergence of the mel magnitude
//           (|| 10^m - 10^m' ||_F / || 10^m ||_F) of encode -> decode; Griffin-Lim renderings of
//           the original and the reconstructed log-mel, and their beat scores (LORIS variant)
//           against the real audio.
//   motion: mean per-joint position error in cm (absolute, and root-relative), bone-length error
//           (mean |l' - l| over bones and frames), and the beat scores (peaks of Q against the
//           music's onsets, LORIS variant) and BLC / BPC of the reconstruction next to the
//           original's.
//   alignment: motion-to-music window retrieval (top-1, top-5, chance) over the windows of the
//           split: segments of segment_frames, windows_per_clip windows chosen by Q per segment;
//           also within each clip (the window among that clip's own windows only), which asks
//           for alignment in time rather than recognising the song.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "data/prepared_clip.h"
#include "model/bicor_vae.h"
#include "momu/core/log.h"

namespace momu {

struct VaeEvalOptions {
  std::string split = "validation";
  int max_clips = 0;                   // 0: all clips of the split
  int segment_frames = 512;            // retrieval segments (the training segment length)
  int griffin_lim_iterations = 60;
  bool vocode = true;                  // Griffin-Lim + beat scores of the music
  std::filesystem::path audio_dir;     // when set: <clip>.original.wav / <clip>.vae.wav excerpts
  double audio_excerpt_s = 20.0;
  int audio_clips = 2;                 // clips written to audio_dir
};

// The report as JSON (per clip and means). Audio is read from the clip's source file ("audio"
// and "music_start_s" of its index entry). Throws ConfigError (empty split, no motion VAE),
// IoError / FormatError (data).
nlohmann::json evaluate_bicor_vae(BicorVae& vae, const PreparedDataset& data,
                                  const VaeEvalOptions& options, const LogSink& log = {},
                                  const ProgressCallback& progress = {});

}  // namespace momu

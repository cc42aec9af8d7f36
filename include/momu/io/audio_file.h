// Audio files: decode WAV, FLAC, OGG and MP3 (libsndfile), downmix to mono, resample (libsoxr),
// write WAV.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>

#include "momu/audio/audio.h"

namespace momu {

struct AudioLoadOptions {
  int target_rate_hz = 0;    // resample to this rate; 0 keeps the file's rate
  double offset_s = 0.0;     // start reading here (seconds into the file)
  double duration_s = -1.0;  // read at most this long; < 0 reads to the end
};

// Reads an audio file, averages its channels to mono (as librosa does) and resamples when asked.
// 16-bit PCM comes back as int16 / 32768 exactly. Throws IoError when the file cannot be opened,
// FormatError when it is empty, corrupt, truncated or holds non-finite samples.
// -> samples: [N] float32
Audio load_audio(const std::filesystem::path& path, const AudioLoadOptions& options = {});

enum class WavSampleFormat { kPcm16, kFloat32 };

// Writes a mono WAV atomically. audio.samples: [N] (any float dtype); values outside [-1, 1]
// are clipped for PCM16. Throws ShapeError on a wrong shape, FormatError on NaN.
void write_wav(const std::filesystem::path& path, const Audio& audio,
               WavSampleFormat format = WavSampleFormat::kPcm16);

// File extensions load_audio accepts (lower case, with dot).
bool is_audio_file(const std::filesystem::path& path);

}  // namespace momu

// The music modality's value type: mono samples at a sample rate (the twin of Motion,
// momu/motion/motion.h). Files in and out: momu/io/audio_file.h.
#pragma once

#include <ATen/core/Tensor.h>

namespace momu {

struct Audio {
  at::Tensor samples;      // [N] float32 mono, nominally in [-1, 1]
  int sample_rate_hz = 0;  // samples per second
  double duration_s() const;  // N / sample_rate_hz; 0 when empty
};

}  // namespace momu

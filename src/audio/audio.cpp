#include "momu/audio/audio.h"

namespace momu {

double Audio::duration_s() const {
  if (!samples.defined() || sample_rate_hz <= 0) return 0.0;
  return static_cast<double>(samples.size(0)) / sample_rate_hz;
}

}  // namespace momu

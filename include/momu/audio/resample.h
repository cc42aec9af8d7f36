// Sample-rate conversion with libsoxr (very high quality by default).
#pragma once

#include <ATen/core/Tensor.h>

namespace momu {

enum class ResampleQuality { kQuick, kLow, kMedium, kHigh, kVeryHigh };

// y: [N] float -> [round(N * to_hz / from_hz)] float32. Returns y (as float32) unchanged when
// the rates are equal.
at::Tensor resample_audio(const at::Tensor& y, int from_hz, int to_hz,
                          ResampleQuality quality = ResampleQuality::kVeryHigh);

}  // namespace momu

#include "momu/audio/resample.h"

#include <soxr.h>
#include <torch/torch.h>

#include <cmath>

#include "momu/core/error.h"

namespace momu {

at::Tensor resample_audio(const at::Tensor& y, int from_hz, int to_hz, ResampleQuality quality) {
  if (y.dim() != 1) {
    throw ShapeError("resample_audio: expected a mono signal [N], got " +
                     std::to_string(y.dim()) + " dimensions");
  }
  if (from_hz <= 0 || to_hz <= 0) {
    throw ConfigError("resample_audio: sample rates must be positive (got " +
                      std::to_string(from_hz) + " -> " + std::to_string(to_hz) + ")");
  }
  auto in = y.to(torch::kFloat32).contiguous();
  if (from_hz == to_hz) return in;
  const int64_t n_in = in.size(0);
  const auto n_out =
      static_cast<int64_t>(std::llround(static_cast<double>(n_in) * to_hz / from_hz));
  auto out = torch::zeros({n_out}, torch::kFloat32);
  if (n_in == 0 || n_out == 0) return out;

  unsigned long recipe = SOXR_VHQ;
  switch (quality) {
    case ResampleQuality::kQuick:
      recipe = SOXR_QQ;
      break;
    case ResampleQuality::kLow:
      recipe = SOXR_LQ;
      break;
    case ResampleQuality::kMedium:
      recipe = SOXR_MQ;
      break;
    case ResampleQuality::kHigh:
      recipe = SOXR_HQ;
      break;
    case ResampleQuality::kVeryHigh:
      recipe = SOXR_VHQ;
      break;
  }
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(recipe, 0);
  size_t done = 0;
  soxr_error_t err = soxr_oneshot(from_hz, to_hz, 1, in.data_ptr<float>(), n_in, nullptr,
                                  out.data_ptr<float>(), n_out, &done, &io, &q, nullptr);
  if (err != nullptr) {
    throw Error(std::string("resample_audio: libsoxr failed: ") + soxr_strerror(err));
  }
  return out;
}

}  // namespace momu

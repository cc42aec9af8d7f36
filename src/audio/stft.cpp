#include "momu/audio/stft.h"

#include <torch/torch.h>

#include "momu/core/error.h"
#include "audio/stft_chunks.h"

namespace F = torch::nn::functional;

namespace momu {

namespace {

// Sums frames [B, T, n] placed every `hop` samples -> [B, n + hop * (T - 1)]. When hop divides
// n, frame t is R = n / hop blocks of hop samples and block r of every frame lands on output
// block t + r: R vectorised adds instead of T slice adds.
at::Tensor overlap_add(const at::Tensor& frames, int64_t hop) {
  const int64_t b = frames.size(0), t = frames.size(1), n = frames.size(2);
  const int64_t total = n + hop * (t - 1);
  auto y = torch::zeros({b, total}, frames.options());
  if (n % hop == 0) {
    const int64_t r_blocks = n / hop;
    auto blocks = frames.reshape({b, t, r_blocks, hop});
    auto out = y.view({b, t + r_blocks - 1, hop});
    for (int64_t r = 0; r < r_blocks; ++r) out.narrow(1, r, t).add_(blocks.select(2, r));
  } else {
    for (int64_t i = 0; i < t; ++i) y.narrow(1, i * hop, n).add_(frames.select(1, i));
  }
  return y;
}

}  // namespace

void StftConfig::validate() const {
  if (n_fft < 2) throw ConfigError("stft: n_fft must be >= 2, got " + std::to_string(n_fft));
  if (hop_length < 1) {
    throw ConfigError("stft: hop_length must be >= 1, got " + std::to_string(hop_length));
  }
  if (win_length < 0 || window_length() > n_fft) {
    throw ConfigError("stft: win_length must be in [1, n_fft], got " + std::to_string(win_length));
  }
}

at::Tensor stft_window(const StftConfig& config, at::ScalarType dtype) {
  config.validate();
  const int w = config.window_length();
  auto window = torch::hann_window(w, /*periodic=*/true, torch::TensorOptions().dtype(dtype));
  if (w < config.n_fft) {
    const int left = (config.n_fft - w) / 2;
    window = F::pad(window, F::PadFuncOptions({left, config.n_fft - w - left}));
  }
  return window;
}

int64_t stft_frame_count(int64_t n_samples, const StftConfig& config) {
  const int64_t padded = config.center ? n_samples + 2 * (config.n_fft / 2) : n_samples;
  if (padded < config.n_fft) return 0;
  return 1 + (padded - config.n_fft) / config.hop_length;
}

namespace {

// y [N] or [B, N] -> [B, N'] with the centring padding stft() applies, checked to hold a frame.
at::Tensor padded_signal(const at::Tensor& y, const StftConfig& config, const char* what) {
  config.validate();
  if (y.dim() != 1 && y.dim() != 2) {
    throw ShapeError(std::string(what) + ": expected y [N] or [B, N], got " +
                     std::to_string(y.dim()) + " dimensions");
  }
  if (!y.is_floating_point()) throw ShapeError(std::string(what) + ": y must be a floating-point tensor");
  auto x = y.dim() == 2 ? y : y.unsqueeze(0);  // [B, N]
  if (config.center) {
    const int64_t pad = config.n_fft / 2;
    if (config.pad_mode == PadMode::kReflect) {
      if (x.size(1) <= pad) {
        throw ShapeError(std::string(what) + ": reflect padding needs more than n_fft/2 = " +
                         std::to_string(pad) + " samples, got " + std::to_string(x.size(1)));
      }
      x = F::pad(x.unsqueeze(1), F::PadFuncOptions({pad, pad}).mode(torch::kReflect)).squeeze(1);
    } else {
      x = F::pad(x, F::PadFuncOptions({pad, pad}));
    }
  }
  if (x.size(1) < config.n_fft) {
    throw ShapeError(std::string(what) + ": signal of " + std::to_string(y.size(-1)) +
                     " samples is shorter than one frame (n_fft " + std::to_string(config.n_fft) +
                     ")");
  }
  return x;
}

// The spectra of the frames of x [B, N'] (already padded) -> [B, bins, frames].
at::Tensor frame_spectra(const at::Tensor& x, const StftConfig& config, const at::Tensor& window) {
  auto frames = x.unfold(1, config.n_fft, config.hop_length);  // [B, frames, n_fft]
  frames = frames * window;
  return torch::fft::rfft(frames, c10::nullopt, -1).transpose(1, 2);  // [B, bins, frames]
}

}  // namespace

at::Tensor stft(const at::Tensor& y, const StftConfig& config) {
  const auto x = padded_signal(y, config, "stft");
  auto spec = frame_spectra(x, config, stft_window(config, y.scalar_type()).to(y.device()));
  return y.dim() == 2 ? spec.contiguous() : spec.squeeze(0).contiguous();
}

at::Tensor stft_reduced(const at::Tensor& y, const StftConfig& config,
                        const std::function<at::Tensor(const at::Tensor& spec)>& reduce,
                        int64_t chunk_frames) {
  if (chunk_frames < 1) throw ConfigError("stft_reduced: chunk_frames must be >= 1");
  const auto x = padded_signal(y, config, "stft");
  const auto window = stft_window(config, y.scalar_type()).to(y.device());
  const int64_t n_frames = 1 + (x.size(1) - config.n_fft) / config.hop_length;
  std::vector<at::Tensor> pieces;
  for (int64_t f0 = 0; f0 < n_frames; f0 += chunk_frames) {
    const int64_t f1 = std::min(n_frames, f0 + chunk_frames);
    const auto part = x.narrow(1, f0 * config.hop_length, (f1 - f0 - 1) * config.hop_length + config.n_fft);
    auto spec = frame_spectra(part, config, window).contiguous();
    pieces.push_back(reduce(y.dim() == 2 ? spec : spec.squeeze(0)));
  }
  return pieces.size() == 1 ? pieces.front() : torch::cat(pieces, -1);
}

at::Tensor istft(const at::Tensor& spec, const StftConfig& config, int64_t length) {
  config.validate();
  if (spec.dim() != 2 && spec.dim() != 3) {
    throw ShapeError("istft: expected spec [bins, frames] or [B, bins, frames], got " +
                     std::to_string(spec.dim()) + " dimensions");
  }
  if (!spec.is_complex()) throw ShapeError("istft: spec must be complex");
  const bool batched = spec.dim() == 3;
  auto s = batched ? spec : spec.unsqueeze(0);  // [B, bins, frames]
  if (s.size(1) != config.n_fft / 2 + 1) {
    throw ShapeError("istft: expected " + std::to_string(config.n_fft / 2 + 1) +
                     " frequency bins for n_fft " + std::to_string(config.n_fft) + ", got " +
                     std::to_string(s.size(1)));
  }
  int64_t n_frames = s.size(2);
  if (length >= 0) {
    const int64_t padded = config.center ? length + config.n_fft : length;
    n_frames = std::min<int64_t>(n_frames, (padded + config.hop_length - 1) / config.hop_length);
    s = s.narrow(2, 0, n_frames);
  }
  const auto real_type = c10::toRealValueType(s.scalar_type());
  auto window = stft_window(config, real_type).to(s.device());                 // [n_fft]
  auto frames = torch::fft::irfft(s.transpose(1, 2), config.n_fft, -1) * window;  // [B, T, n_fft]
  const int64_t total = config.n_fft + config.hop_length * (n_frames - 1);
  auto y = overlap_add(frames, config.hop_length);  // [B, total]
  auto win_sq = (window * window).reshape({1, 1, config.n_fft}).expand({1, n_frames, config.n_fft});
  auto norm = overlap_add(win_sq, config.hop_length).squeeze(0);  // [total]
  const double tiny = real_type == torch::kFloat64 ? 2.2250738585072014e-308 : 1.17549435e-38;
  auto nonzero = norm > tiny;
  y = torch::where(nonzero, y / torch::where(nonzero, norm, torch::ones_like(norm)), y);
  const int64_t start = config.center ? config.n_fft / 2 : 0;
  if (length < 0) {
    y = config.center ? y.narrow(1, start, std::max<int64_t>(0, total - 2 * start)) : y;
  } else {
    y = y.narrow(1, start, std::max<int64_t>(0, std::min(length, total - start)));
    if (y.size(1) < length) y = F::pad(y, F::PadFuncOptions({0, length - y.size(1)}));
  }
  return batched ? y.contiguous() : y.squeeze(0).contiguous();
}

}  // namespace momu

#include "momu/motion/resample.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/shape.h"
#include "momu/core/error.h"

namespace momu {

namespace {

struct Fraction {
  int64_t num = 0;
  int64_t den = 1;
};

// fps as num/den with den <= 10000, when it is one (within 1e-9 relative).
std::optional<Fraction> as_fraction(double fps) {
  for (int64_t den = 1; den <= 10000; ++den) {
    const double num = std::round(fps * static_cast<double>(den));
    if (std::abs(num / static_cast<double>(den) - fps) <= 1e-9 * std::max(1.0, fps) && num < 1e12) {
      return Fraction{static_cast<int64_t>(num), den};
    }
  }
  return std::nullopt;
}

void check_rates(double from_fps, double to_fps) {
  if (!(from_fps > 0) || !(to_fps > 0) || !std::isfinite(from_fps) || !std::isfinite(to_fps)) {
    throw ConfigError("resample: frame rates must be positive, got " + std::to_string(from_fps) +
                      " -> " + std::to_string(to_fps));
  }
}

// Source position of output frame k as (i0, w).
struct Position {
  std::optional<Fraction> from, to;
  double ratio;
  Position(double from_fps, double to_fps)
      : from(as_fraction(from_fps)), to(as_fraction(to_fps)), ratio(from_fps / to_fps) {}

  void at(int64_t k, int64_t& i0, double& w) const {
    if (from && to) {
      // u = k * (from.num / from.den) / (to.num / to.den) = k * from.num * to.den / (from.den *
      // to.num)
      const int64_t num = k * from->num * to->den;
      const int64_t den = from->den * to->num;
      i0 = num / den;
      w = static_cast<double>(num % den) / static_cast<double>(den);
    } else {
      const double u = static_cast<double>(k) * ratio;
      i0 = static_cast<int64_t>(std::floor(u + 1e-9));
      w = std::max(0.0, u - static_cast<double>(i0));
    }
  }
};

}  // namespace

int64_t resampled_length(int64_t num_frames, double from_fps, double to_fps) {
  check_rates(from_fps, to_fps);
  if (num_frames <= 0) return 0;
  const auto from = as_fraction(from_fps);
  const auto to = as_fraction(to_fps);
  if (from && to) {
    // (N - 1) * to / from = (N - 1) * to.num * from.den / (to.den * from.num)
    return (num_frames - 1) * to->num * from->den / (to->den * from->num) + 1;
  }
  return static_cast<int64_t>(std::floor((num_frames - 1) * to_fps / from_fps + 1e-9)) + 1;
}

at::Tensor resample_frames(const at::Tensor& x, double from_fps, double to_fps,
                           int64_t out_frames) {
  check_rates(from_fps, to_fps);
  if (!x.defined() || x.dim() < 1 || x.size(0) < 1) {
    throw ShapeError("resample_frames: expected x [T, ...] with T >= 1, got " +
                     describe_shape(x));
  }
  if (!x.is_floating_point()) throw ShapeError("resample_frames: x must be floating point");
  const int64_t T = x.size(0);
  const int64_t n = out_frames >= 0 ? out_frames : resampled_length(T, from_fps, to_fps);
  const Position pos(from_fps, to_fps);
  std::vector<int64_t> i0s(static_cast<size_t>(n)), i1s(static_cast<size_t>(n));
  std::vector<double> ws(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    int64_t i0 = 0;
    double w = 0;
    pos.at(k, i0, w);
    if (i0 >= T - 1) {
      i0 = T - 1;
      w = 0.0;
    }
    i0s[k] = i0;
    i1s[k] = std::min(i0 + 1, T - 1);
    ws[k] = w;
  }
  auto xd = x.to(torch::kFloat64);
  auto idx0 = torch::tensor(i0s, torch::kLong).to(x.device());
  auto idx1 = torch::tensor(i1s, torch::kLong).to(x.device());
  std::vector<int64_t> wshape(static_cast<size_t>(x.dim()), 1);
  wshape[0] = n;
  auto w = torch::tensor(ws, torch::kFloat64).to(x.device()).reshape(wshape);
  auto y = (1.0 - w) * xd.index_select(0, idx0) + w * xd.index_select(0, idx1);
  return y.to(x.scalar_type());
}

Motion resample_motion(const Motion& motion, double to_fps, int64_t out_frames) {
  motion.validate();
  Motion out;
  out.skeleton = motion.skeleton;
  out.fps = to_fps;
  out.joints = resample_frames(motion.joints, motion.fps, to_fps, out_frames);
  if (motion.confidence.defined()) {
    out.confidence = resample_frames(motion.confidence, motion.fps, to_fps, out_frames);
  }
  return out;
}

int64_t duration_frames(int64_t num_frames, double from_fps, double to_fps) {
  check_rates(from_fps, to_fps);
  return std::max<int64_t>(1, std::llround(static_cast<double>(num_frames) * to_fps / from_fps));
}

Motion motion_at_rate(const Motion& motion, double fps) {
  if (std::abs(motion.fps - fps) <= 1e-9) return motion;
  return resample_motion(motion, fps, duration_frames(motion.num_frames(), motion.fps, fps));
}

}  // namespace momu

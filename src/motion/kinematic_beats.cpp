#include "momu/motion/kinematic_beats.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "core/shape.h"
#include "momu/core/error.h"
#include "momu/motion/resample.h"

namespace momu {

void KinematicBeatsConfig::validate() const {
  if (!(fps > 0)) throw ConfigError("kinematic beats: fps must be positive");
  if (!(sigma_frames > 0)) throw ConfigError("kinematic beats: sigma_frames must be positive");
  if (!(truncate > 0)) throw ConfigError("kinematic beats: truncate must be positive");
}

void to_json(nlohmann::json& j, const KinematicBeatsConfig& c) {
  j = nlohmann::json{{"fps", c.fps}, {"sigma_frames", c.sigma_frames}, {"truncate", c.truncate}};
}

void from_json(const nlohmann::json& j, KinematicBeatsConfig& c) {
  JsonFields f(j, "kinematic beats config");
  f.get("fps", c.fps);
  f.get("sigma_frames", c.sigma_frames);
  f.get("truncate", c.truncate);
  f.finish();
  c.validate();
}

at::Tensor gaussian_filter1d(const at::Tensor& x, double sigma, double truncate) {
  if (!x.defined() || x.dim() != 1) {
    throw ShapeError("gaussian_filter1d: expected x [N], got " +
                     describe_shape(x));
  }
  if (!(sigma > 0) || !(truncate > 0)) {
    throw ConfigError("gaussian_filter1d: sigma and truncate must be positive");
  }
  const int64_t n = x.size(0);
  auto xc = x.to(torch::kFloat64).contiguous().cpu();
  auto out = torch::empty({n}, torch::kFloat64);
  if (n == 0) return out;
  // scipy's _gaussian_kernel1d: exp(-0.5 / sigma^2 * x^2), normalised to sum 1.
  const int64_t radius = static_cast<int64_t>(truncate * sigma + 0.5);
  std::vector<double> w(static_cast<size_t>(2 * radius + 1));
  double total = 0;
  for (int64_t i = -radius; i <= radius; ++i) {
    w[i + radius] = std::exp(-0.5 / (sigma * sigma) * static_cast<double>(i * i));
    total += w[i + radius];
  }
  for (double& v : w) v /= total;
  const double* in = xc.data_ptr<double>();
  double* o = out.data_ptr<double>();
  auto reflect = [n](int64_t i) {
    const int64_t period = 2 * n;
    int64_t m = i % period;
    if (m < 0) m += period;
    return m < n ? m : period - 1 - m;
  };
  for (int64_t i = 0; i < n; ++i) {
    double acc = 0;
    for (int64_t k = -radius; k <= radius; ++k) acc += w[k + radius] * in[reflect(i + k)];
    o[i] = acc;
  }
  return out;
}

std::vector<int64_t> strict_local_minima(const at::Tensor& x) {
  if (!x.defined() || x.dim() != 1) throw ShapeError("strict_local_minima: expected x [N]");
  auto xc = x.to(torch::kFloat64).contiguous().cpu();
  const double* v = xc.data_ptr<double>();
  std::vector<int64_t> out;
  for (int64_t i = 1; i + 1 < xc.size(0); ++i) {
    if (v[i] < v[i - 1] && v[i] < v[i + 1]) out.push_back(i);
  }
  return out;
}

KinematicBeats kinematic_beats(const at::Tensor& joints, double fps,
                               const KinematicBeatsConfig& config) {
  config.validate();
  if (!joints.defined() || joints.dim() != 3 || joints.size(0) < 2 || !joints.is_floating_point()) {
    throw ShapeError("kinematic_beats: expected floating joints [T, J, D] with T >= 2, got " +
                     describe_shape(joints));
  }
  KinematicBeats b;
  b.fps = config.fps;
  auto p = resample_frames(joints.to(torch::kFloat64), fps, config.fps);  // [T', J, D]
  b.num_frames = p.size(0);
  if (b.num_frames < 2) {
    throw ShapeError("kinematic_beats: the motion is shorter than two frames at " +
                     std::to_string(config.fps) + " fps");
  }
  const int64_t n = b.num_frames;
  b.velocity = (p.narrow(0, 1, n - 1) - p.narrow(0, 0, n - 1)).norm(2, -1).mean(-1);  // [T'-1]
  b.velocity_smoothed = gaussian_filter1d(b.velocity, config.sigma_frames, config.truncate);
  b.beat_frames = strict_local_minima(b.velocity_smoothed);
  return b;
}

}  // namespace momu

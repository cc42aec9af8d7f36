#include "motion/rotation.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "momu/core/error.h"

namespace momu {

using rot3::Mat3;

namespace {

std::array<int, 3> order_axes(const std::string& order) {
  std::string o = order;
  std::transform(o.begin(), o.end(), o.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (o.size() != 3 || std::set<char>(o.begin(), o.end()).size() != 3 ||
      o.find_first_not_of("XYZ") != std::string::npos) {
    throw ConfigError("Euler order must be a permutation of XYZ, got '" + order + "'");
  }
  return {o[0] - 'X', o[1] - 'X', o[2] - 'X'};
}

}  // namespace

std::array<double, 9> euler_to_matrix(const std::array<double, 3>& degrees,
                                      const std::string& order) {
  const auto axes = order_axes(order);
  Mat3 r = rot3::identity();
  for (int k = 0; k < 3; ++k) {
    r = rot3::mul(r, rot3::axis_rotation(axes[k], degrees[k] * M_PI / 180.0));
  }
  return r;
}

std::array<double, 3> matrix_to_euler(const std::array<double, 9>& r, const std::string& order) {
  const auto axes = order_axes(order);
  const int i = axes[0], j = axes[1], k = axes[2];
  const bool even = (j == (i + 1) % 3);
  const double s = even ? 1.0 : -1.0;
  auto R = [&](int a, int b) { return r[a * 3 + b]; };
  const double sb = std::clamp(s * R(i, k), -1.0, 1.0);
  double alpha = 0, beta = std::asin(sb), gamma = 0;
  if (std::abs(sb) < 1.0 - 1e-12) {
    alpha = std::atan2(-s * R(j, k), R(k, k));
    gamma = std::atan2(-s * R(i, j), R(i, i));
  } else {
    // Gimbal lock: put the whole remaining rotation on the first axis.
    const Mat3 m = rot3::mul(r, rot3::transpose(rot3::axis_rotation(j, beta)));
    const int a = (i + 1) % 3, b = (i + 2) % 3;
    alpha = std::atan2(m[b * 3 + a], m[a * 3 + a]);
  }
  constexpr double kDeg = 180.0 / M_PI;
  return {alpha * kDeg, beta * kDeg, gamma * kDeg};
}

}  // namespace momu

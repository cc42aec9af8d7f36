// Rotations in double precision: small 3-vector and 3x3 helpers (the BVH reader and exporter),
// and Euler angles in any axis order.
#pragma once

#include <array>
#include <cmath>
#include <string>

namespace momu::rot3 {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<double, 9>;  // row-major

inline Mat3 identity() { return {1, 0, 0, 0, 1, 0, 0, 0, 1}; }

inline Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 c{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      c[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
    }
  }
  return c;
}

inline Vec3 apply(const Mat3& a, const Vec3& v) {
  return {a[0] * v[0] + a[1] * v[1] + a[2] * v[2], a[3] * v[0] + a[4] * v[1] + a[5] * v[2],
          a[6] * v[0] + a[7] * v[1] + a[8] * v[2]};
}

inline Mat3 transpose(const Mat3& a) {
  return {a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]};
}

inline Vec3 add(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
inline Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
inline Vec3 scale(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
inline double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
inline Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
inline double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }

// Rotation by `radians` about coordinate axis 0 (x), 1 (y) or 2 (z).
inline Mat3 axis_rotation(int axis, double radians) {
  const double c = std::cos(radians), s = std::sin(radians);
  switch (axis) {
    case 0:
      return {1, 0, 0, 0, c, -s, 0, s, c};
    case 1:
      return {c, 0, s, 0, 1, 0, -s, 0, c};
    default:
      return {c, -s, 0, s, c, 0, 0, 0, 1};
  }
}

// Rotation about the unit axis `u` by `radians` (Rodrigues).
inline Mat3 axis_angle(const Vec3& u, double radians) {
  const double c = std::cos(radians), s = std::sin(radians), k = 1.0 - c;
  const double x = u[0], y = u[1], z = u[2];
  return {c + x * x * k,     x * y * k - z * s, x * z * k + y * s, y * x * k + z * s, c + y * y * k,
          y * z * k - x * s, z * x * k - y * s, z * y * k + x * s, c + z * z * k};
}

// The smallest rotation turning unit vector a into unit vector b.
inline Mat3 rotation_between(const Vec3& a, const Vec3& b) {
  const Vec3 axis = cross(a, b);
  const double s = norm(axis);
  const double c = dot(a, b);
  if (s < 1e-12) {
    if (c > 0) return identity();
    // Opposite: half a turn about any axis perpendicular to a.
    Vec3 other = std::abs(a[0]) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
    Vec3 p = cross(a, other);
    return axis_angle(scale(p, 1.0 / norm(p)), M_PI);
  }
  return axis_angle(scale(axis, 1.0 / s), std::atan2(s, c));
}

// Orthonormal frame (columns e1, e2, e3) from a first direction and a second one not parallel to
// it: e1 = a, e2 = the part of b orthogonal to a, e3 = e1 x e2. Returns false when degenerate.
inline bool frame_from(const Vec3& a, const Vec3& b, Mat3& f) {
  const double na = norm(a);
  if (na < 1e-12) return false;
  const Vec3 e1 = scale(a, 1.0 / na);
  Vec3 e2 = sub(b, scale(e1, dot(b, e1)));
  const double n2 = norm(e2);
  if (n2 < 1e-6 * std::max(1.0, norm(b))) return false;
  e2 = scale(e2, 1.0 / n2);
  const Vec3 e3 = cross(e1, e2);
  f = {e1[0], e2[0], e3[0], e1[1], e2[1], e3[1], e1[2], e2[2], e3[2]};
  return true;
}

}  // namespace momu::rot3

namespace momu {

// Rotation matrix of Euler angles (degrees) in the given order ("ZXY": R = Rz * Rx * Ry), and the
// inverse (angles in (-180, 180], the middle one in [-90, 90]). Row-major 3x3. ConfigError when
// the order is not a permutation of XYZ.
std::array<double, 9> euler_to_matrix(const std::array<double, 3>& degrees,
                                      const std::string& order);
std::array<double, 3> matrix_to_euler(const std::array<double, 9>& r, const std::string& order);

}  // namespace momu

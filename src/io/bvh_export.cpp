// BVH export of joint positions: rest offsets from median bone lengths, joint rotations from
// bone directions (see bvh_from_motion in momu/io/bvh.h).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "momu/core/error.h"
#include "momu/io/bvh_export.h"
#include "motion/rotation.h"

namespace momu {

using rot3::Mat3;
using rot3::Vec3;

namespace {

BvhChannel rotation_channel(char axis) {
  return axis == 'X'   ? BvhChannel::kXrotation
         : axis == 'Y' ? BvhChannel::kYrotation
                       : BvhChannel::kZrotation;
}

// Per tree bone (indexed by the child point): observed unit directions per frame, rest
// direction and median length.
struct BoneTrack {
  std::vector<Vec3> dir;  // [T]
  Vec3 rest_dir{0, 1, 0};
  double length = 0.0;
};

BoneTrack track_bone(const double* points, int64_t T, int64_t P, int parent, int child) {
  BoneTrack b;
  b.dir.resize(static_cast<size_t>(T));
  std::vector<double> lengths(static_cast<size_t>(T));
  Vec3 mean{0, 0, 0};
  Vec3 first{0, 0, 0};
  bool have_first = false;
  for (int64_t t = 0; t < T; ++t) {
    const double* pc = points + (t * P + child) * 3;
    const double* pp = points + (t * P + parent) * 3;
    const Vec3 v{pc[0] - pp[0], pc[1] - pp[1], pc[2] - pp[2]};
    const double n = rot3::norm(v);
    lengths[t] = n;
    if (n > 1e-9) {
      b.dir[t] = rot3::scale(v, 1.0 / n);
      mean = rot3::add(mean, b.dir[t]);
      if (!have_first) first = b.dir[t];
      have_first = true;
    } else {
      b.dir[t] = {0, 0, 0};  // filled below from a neighbouring frame
    }
  }
  std::vector<double> sorted = lengths;
  std::nth_element(sorted.begin(), sorted.begin() + T / 2, sorted.end());
  b.length = sorted[T / 2];
  if (T % 2 == 0 && T > 1) {
    const double lo = *std::max_element(sorted.begin(), sorted.begin() + T / 2);
    b.length = 0.5 * (b.length + lo);
  }
  const double nm = rot3::norm(mean);
  b.rest_dir = nm > 1e-6 * T ? rot3::scale(mean, 1.0 / nm) : have_first ? first : Vec3{0, 1, 0};
  // Frames where the bone has no length keep the previous direction (the rest one at the start).
  Vec3 last = b.rest_dir;
  for (int64_t t = 0; t < T; ++t) {
    if (rot3::norm(b.dir[t]) == 0.0) b.dir[t] = last;
    last = b.dir[t];
  }
  return b;
}

struct ExportNode {
  int point = -1;       // skeleton point this BVH joint stands for (the child for a helper)
  bool helper = false;  // zero-offset joint carrying one child's direction
  int bvh_parent = -1;
};

}  // namespace

Bvh bvh_from_motion(const Motion& motion, const BvhExportOptions& options) {
  motion.validate();
  const Skeleton& s = motion.skeleton;
  if (s.dim != 3) {
    throw ConfigError("BVH export needs 3D joints; skeleton '" + s.name + "' is " +
                      std::to_string(s.dim) + "D");
  }
  if (!s.has_tree()) {
    throw ConfigError("BVH export needs a kinematic tree; skeleton '" + s.name +
                      "' has none (give the motion a named skeleton)");
  }
  std::string order = options.rotation_order;
  std::transform(order.begin(), order.end(), order.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  matrix_to_euler(rot3::identity(), order);  // validates the order
  if (!(options.end_site_fraction > 0)) {
    throw ConfigError("BVH export: end_site_fraction must be positive");
  }

  auto points_t = with_virtual_joints(motion.joints.to(torch::kFloat64), s).contiguous();
  const int64_t T = points_t.size(0);
  const int64_t P = points_t.size(1);
  const double* points = points_t.data_ptr<double>();

  std::vector<std::vector<int>> kids(static_cast<size_t>(P));
  for (int p = 0; p < P; ++p) kids[p] = s.children(p);
  std::vector<BoneTrack> bones(static_cast<size_t>(P));
  for (int c = 0; c < P; ++c) {
    if (s.parents[c] >= 0) bones[c] = track_bone(points, T, P, s.parents[c], c);
  }
  // Siblings take their rest directions from one frame, the one closest to their mean
  // directions, so that a rigid joint can match them all (mean directions of bones that turn
  // together are not a rigid configuration).
  for (int p = 0; p < P; ++p) {
    const auto& ch = kids[p];
    if (ch.size() < 2) continue;
    int64_t best_t = 0;
    double best = std::numeric_limits<double>::infinity();
    for (int64_t t = 0; t < T; ++t) {
      double d = 0;
      for (int c : ch)
        d += rot3::dot(rot3::sub(bones[c].dir[t], bones[c].rest_dir),
                       rot3::sub(bones[c].dir[t], bones[c].rest_dir));
      if (d < best) {
        best = d;
        best_t = t;
      }
    }
    for (int c : ch) bones[c].rest_dir = bones[c].dir[best_t];
  }
  auto offset_of = [&](int c) { return rot3::scale(bones[c].rest_dir, bones[c].length); };

  // Hierarchy.
  Bvh bvh;
  bvh.frame_time_s = 1.0 / motion.fps;
  std::vector<ExportNode> nodes;
  std::vector<BvhChannel> rot_channels;
  for (char a : order) rot_channels.push_back(rotation_channel(a));
  int channel = 0;
  auto add_joint = [&](const std::string& name, int parent, const Vec3& offset, bool root) {
    BvhJoint j;
    j.name = name;
    j.parent = parent;
    j.offset = offset;
    if (root) {
      j.channels = {BvhChannel::kXposition, BvhChannel::kYposition, BvhChannel::kZposition};
    }
    j.channels.insert(j.channels.end(), rot_channels.begin(), rot_channels.end());
    j.first_channel = channel;
    channel += static_cast<int>(j.channels.size());
    bvh.joints.push_back(j);
    return static_cast<int>(bvh.joints.size()) - 1;
  };
  std::function<void(int, int)> emit = [&](int p, int bvh_parent) {
    const bool root = p == s.root;
    const int index =
        add_joint(s.point_name(p), bvh_parent, root ? Vec3{0, 0, 0} : offset_of(p), root);
    nodes.push_back({p, false, bvh_parent});
    const auto& children = kids[p];
    if (children.empty()) {
      BvhJoint end;
      end.name = s.point_name(p) + "_end";
      end.parent = index;
      end.end_site = true;
      end.first_channel = channel;
      const Vec3 o = root ? Vec3{0, 0, 0} : offset_of(p);
      end.offset = rot3::norm(o) > 0 ? rot3::scale(o, options.end_site_fraction) : Vec3{0, 1, 0};
      bvh.joints.push_back(end);
      nodes.push_back({-1, false, index});
      return;
    }
    for (int c : children) {
      if (children.size() > 1 && options.branch_helpers) {
        const int h =
            add_joint(s.point_name(p) + "_to_" + s.point_name(c), index, {0, 0, 0}, false);
        nodes.push_back({c, true, index});
        emit(c, h);
      } else {
        emit(c, index);
      }
    }
  };
  emit(s.root, -1);

  // For joints with several children: the pair of children furthest from parallel.
  std::vector<std::pair<int, int>> pair(static_cast<size_t>(P), {-1, -1});
  for (int p = 0; p < P; ++p) {
    const auto& ch = kids[p];
    double best = -1;
    for (size_t a = 0; a < ch.size(); ++a) {
      for (size_t b = a + 1; b < ch.size(); ++b) {
        const double x = rot3::norm(rot3::cross(bones[ch[a]].rest_dir, bones[ch[b]].rest_dir));
        if (x > best) {
          best = x;
          pair[p] = {ch[a], ch[b]};
        }
      }
    }
  }

  // Rotations, frame by frame.
  const int C = channel;
  const size_t N = bvh.joints.size();
  bvh.frames = torch::zeros({T, C}, torch::kFloat64);
  double* out = bvh.frames.data_ptr<double>();
  std::vector<Mat3> global(N, rot3::identity());
  for (int64_t t = 0; t < T; ++t) {
    for (size_t i = 0; i < N; ++i) {
      const BvhJoint& j = bvh.joints[i];
      if (j.end_site) continue;
      const ExportNode& node = nodes[i];
      const Mat3 parent_g = j.parent < 0 ? rot3::identity() : global[j.parent];
      // The smallest change from the parent's frame that points child c's rest bone at its
      // observed direction.
      auto follow = [&](int c) {
        const Vec3 from = rot3::apply(parent_g, bones[c].rest_dir);
        return rot3::mul(rot3::rotation_between(from, bones[c].dir[t]), parent_g);
      };
      Mat3 g = parent_g;
      if (node.helper) {
        g = follow(node.point);
      } else {
        const auto& children = kids[node.point];
        if (children.size() == 1) {
          g = follow(children[0]);
        } else if (children.size() > 1) {
          const auto [a, b] = pair[node.point];
          Mat3 rest, seen;
          if (rot3::frame_from(bones[a].rest_dir, bones[b].rest_dir, rest) &&
              rot3::frame_from(bones[a].dir[t], bones[b].dir[t], seen)) {
            g = rot3::mul(seen, rot3::transpose(rest));
          } else {
            g = follow(a);
          }
        }
      }
      global[i] = g;
      const auto angles = matrix_to_euler(rot3::mul(rot3::transpose(parent_g), g), order);
      double* row = out + t * C + j.first_channel;
      int k = 0;
      if (j.parent < 0) {
        for (int d = 0; d < 3; ++d) row[k++] = points[(t * P + node.point) * 3 + d];
      }
      for (int a = 0; a < 3; ++a, ++k) {
        double angle = angles[a];
        if (t > 0) {
          const double prev = row[k - C];
          angle += 360.0 * std::round((prev - angle) / 360.0);
        }
        row[k] = angle;
      }
    }
  }
  bvh.validate("BVH export");
  return bvh;
}

void write_bvh_motion(const std::filesystem::path& path, const Motion& motion,
                      const BvhExportOptions& options) {
  write_bvh(path, bvh_from_motion(motion, options));
}

}  // namespace momu

// Skeletons: joint names, drawing bones, the kinematic tree, dimension and up axis of a motion.
//
// Points. A skeleton has J real joints (the channels of a motion, indices 0..J-1) and V virtual
// joints (indices J..J+V-1), each the mean of two real joints. Dance with Melody draws its neck,
// head and feet through such midpoints; COCO-17 has no pelvis or neck and gets them as midpoints.
// Every index in `bones`, `parents`, `root` and `foot_joints` is a point index (real or virtual)
// unless the field says otherwise.
#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace momu {

// A joint that is not stored in the motion: the mean of real joints a and b.
struct VirtualJoint {
  std::string name;
  int a = 0;
  int b = 0;
};

struct Skeleton {
  std::string name;                      // "dwm23", "coco17", ... or "bvh", "generic"
  std::vector<std::string> joint_names;  // J real joints
  std::vector<VirtualJoint> virtual_joints;
  // Bones for drawing, parent -> child (pointing away from the root).
  std::vector<std::pair<int, int>> bones;
  // Kinematic tree over the points: parents[p] is p's parent, -1 for the root only. Empty for a
  // skeleton with no known tree (a generic one); BVH export needs it.
  std::vector<int> parents;
  int dim = 3;                   // 2 (image keypoints) or 3
  int up_axis = 1;               // coordinate that points up (1 = y)
  int up_sign = 1;               // -1 when the up axis grows downwards (image coordinates: y down)
  int root = 0;                  // point whose trajectory is the root (may be virtual)
  std::vector<int> foot_joints;  // real joints used for foot speed (DESIGN.md section 7)
  std::string units;             // "cm", "m", "px" or "" when unknown

  int num_joints() const { return static_cast<int>(joint_names.size()); }
  int num_points() const { return num_joints() + static_cast<int>(virtual_joints.size()); }
  bool has_tree() const { return !parents.empty(); }
  // The same named layout: name, joint count and dimension (what a model's input must match).
  bool same_layout(const Skeleton& other) const {
    return name == other.name && num_joints() == other.num_joints() && dim == other.dim;
  }
  // Name of point p (a real or virtual joint).
  const std::string& point_name(int p) const;
  // Index of the point called `name`, or -1.
  int find_point(const std::string& name) const;
  // Children of point p in the kinematic tree, in point order.
  std::vector<int> children(int p) const;
  // Parent -> child edges of the kinematic tree, parents before children (breadth first).
  std::vector<std::pair<int, int>> tree_bones() const;
  // Throws ConfigError when an index is out of range, names repeat, or parents is not a tree
  // rooted at `root`.
  void validate() const;
};

bool operator==(const Skeleton& a, const Skeleton& b);
inline bool operator!=(const Skeleton& a, const Skeleton& b) { return !(a == b); }

// Dance with Melody: 23 joints, 3D, y up, cm, 25 fps. Bones exactly as the dataset README (with
// the virtual joints mid(0,1) "head", mid(3,12) "neck", mid(10,11), mid(19,20) "*_foot"); root 2
// (pelvis); foot joints 9, 10, 11, 18, 19, 20. The tree hangs 0/1, 10/11, 19/20 from their
// midpoints and the undrawn hand points 21 and 22 from the hands 15 and 6 (nearest in the data).
Skeleton dance_with_melody_skeleton();
// OpenPose BODY_18 without the four face points: nose, neck, shoulders, elbows, wrists, hips,
// knees, ankles (right before left). 2D image coordinates (y down), root = neck.
Skeleton openpose14_skeleton();
// COCO-17 keypoints, 2D image coordinates (y down), px; virtual pelvis (root) and neck.
Skeleton coco17_skeleton();
// AIST++ keypoints3d: COCO-17 in 3D, y up, cm; virtual pelvis (root) and neck.
Skeleton coco17_3d_skeleton();
// SMPL-24 joints, 3D, y up, m; root = pelvis.
Skeleton smpl24_skeleton();
// J joints of dimension dim with no bones and no tree (root 0), named "joint_<j>".
Skeleton generic_skeleton(int num_joints, int dim);

// The skeleton called `name`: "dwm23", "openpose14", "coco17", "coco17_3d", "smpl24". Throws
// ConfigError listing the known names otherwise.
Skeleton skeleton_by_name(const std::string& name);
const std::vector<std::string>& skeleton_names();
// The named skeleton with J joints of dimension D, or a generic one: 23x3 dwm23, 14x2
// openpose14, 17x2 coco17, 17x3 coco17_3d, 24x3 smpl24.
Skeleton guess_skeleton(int num_joints, int dim);

// Full definition as JSON; from_json validates and rejects unknown keys.
void to_json(nlohmann::json& j, const Skeleton& s);
void from_json(const nlohmann::json& j, Skeleton& s);

// Real joints followed by the virtual ones.
// joints: [..., J, D] -> [..., J + V, D] (same dtype)
at::Tensor with_virtual_joints(const at::Tensor& joints, const Skeleton& skeleton);

// Length of every bone in `bones` (drawing bones; virtual endpoints included).
// joints: [..., J, D] -> [..., B] (same dtype)
at::Tensor bone_lengths(const at::Tensor& joints, const Skeleton& skeleton);

// Length of every kinematic-tree bone, in the order of tree_bones().
// joints: [..., J, D] -> [..., E], E = num_points() - 1
at::Tensor tree_bone_lengths(const at::Tensor& joints, const Skeleton& skeleton);

// Rebuilds the motion along the kinematic tree with every tree bone's length clamped to
// [min_lengths[e], max_lengths[e]] (equal bounds set it exactly); directions and the root
// trajectory are kept. Virtual joints stay midpoints where their two halves have equal bounds.
// joints: [T, J, D], min_lengths/max_lengths: [E] -> [T, J, D] (same dtype)
at::Tensor clamp_bone_lengths(const at::Tensor& joints, const Skeleton& skeleton,
                              const at::Tensor& min_lengths, const at::Tensor& max_lengths);

// Keeps a 3D motion on the floor: the height of its lowest joint, averaged over a centred
// window of `window_frames` frames, is subtracted from every joint, so slow vertical drift (a
// root trajectory integrated over minutes) is removed while jumps and crouches shorter than the
// window stay. The floor is height 0 along skeleton.up_axis. 2D motions are returned unchanged.
// joints: [T, J, D] -> [T, J, D] (same dtype)
at::Tensor keep_on_floor(const at::Tensor& joints, const Skeleton& skeleton, int64_t window_frames);

}  // namespace momu

// Body roles of a skeleton's points (issue 16): which point is the pelvis, the left knee, the
// right toe... so a motion on one skeleton can be mapped onto another (momu/motion/retarget.h).
//
// Found from the points' names, which covers the skeletons momu names (dwm23, smpl24, coco17_3d,
// coco17, openpose14: snake_case names, virtual pelvis and neck) and BVH or JSON skeletons: CMU ("LeftUpLeg", "LeftLeg",
// "LeftFoot", "LeftToeBase", "LeftArm", "LeftForeArm", "LeftHand"), Mixamo ("mixamorig:" prefix,
// "LeftToe_End", "HeadTop_End"), 3ds Max / MotionBuilder style ("LeftHip", "LeftKnee", "LeftAnkle",
// "LeftCollar", "LeftShoulder", "LeftElbow", "LeftWrist", "Bip01 L Thigh") and snake_case names
// ("left_knee", "l_ankle", "knee_l", "knee.L"). Sides are read from a "left"/"right" word, an
// "l"/"r" token, or a capital L/R before another capital ("LHipJoint").
#pragma once

#include <array>
#include <string>
#include <vector>

#include "momu/motion/skeleton.h"

namespace momu {

enum class BodyRole : int {
  kPelvis,
  kNeck,
  kHead,
  kHeadTop,
  kRightEar,
  kLeftEar,
  kRightShoulder,  // the shoulder joint (top of the upper arm), not the clavicle
  kRightElbow,
  kRightWrist,
  kRightHand,      // the hand beyond the wrist (finger base, palm)
  kRightHandTip,   // finger tips
  kLeftShoulder,
  kLeftElbow,
  kLeftWrist,
  kLeftHand,
  kLeftHandTip,
  kRightHip,       // the hip joint (top of the thigh)
  kRightKnee,
  kRightAnkle,
  kRightHeel,
  kRightToe,       // toe base or toes
  kRightToeTip,
  kLeftHip,
  kLeftKnee,
  kLeftAnkle,
  kLeftHeel,
  kLeftToe,
  kLeftToeTip,
};
constexpr int kNumBodyRoles = 28;

// "pelvis", "left knee", ...
const char* body_role_name(BodyRole role);

struct JointRoles {
  std::array<int, kNumBodyRoles> point;  // point index (real or virtual) per role, -1: absent
  JointRoles() { point.fill(-1); }
  int at(BodyRole r) const { return point[static_cast<int>(r)]; }
  bool has(BodyRole r) const { return at(r) >= 0; }
  int count() const;  // roles found
};

// Roles of the skeleton's points (real and virtual), matched from their names. When several
// points match a role, the name listed first for it wins ("LeftArm" before "LeftShoulder" for the
// shoulder joint, "LeftAnkle" before "LeftFoot", "LFingers" before "LeftFingerBase"), then the
// first point in order.
JointRoles find_joint_roles(const Skeleton& skeleton);

}  // namespace momu

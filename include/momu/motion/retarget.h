// Retargeting (issue 16): a motion on any 3D skeleton with recognisable joints, mapped onto the
// model's skeleton (Dance with Melody's dwm23) so that its kinematics, not its body, reach the
// model.
//
//   1. Same joints: a motion that has every target joint by name (a BVH momu exported, a dwm23
//      JSON) keeps exactly those joints (select_joints_by_name): the identity.
//   2. Otherwise the body roles of its points (motion/joint_roles.h) give the target joints:
//      pelvis (else the hips' midpoint), shoulders, elbows, wrists, hips, knees, ankles (required),
//      hands and finger tips (else extended along the forearm), toes (else placed forward of the
//      ankle), heels (placed below and behind the ankle), the two head points (the ears, else
//      either side of the head; a missing head sits above the shoulders).
//   3. Axes: the up axis is the one the pelvis-to-shoulders vector follows on average (+y, -y, +z,
//      -z, +x or -x), turned to +y by a proper rotation (handedness kept).
//   4. Units and size: the legs (hip-knee-ankle, median over frames) give the scale to the target's
//      reference legs; the unit is named when that scale is within 1.5x of m, dm, cm, mm, inches
//      or feet, the rest is body size. The whole motion (its root path too) is scaled by it.
//   5. Proportions: the joints are rebuilt along the target's tree with every bone clamped into
//      the range of Dance with Melody's training dances (the bone_min / bone_max the experts
//      record), directions and the root's path kept: a bone already in that range keeps its
//      length, so the timing of the motion is untouched (kinematic beats of the body joints move
//      by at most a frame or two at 60 fps where bones are changed).
// 2D motions (image keypoints) are refused: their depth is unknown.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "momu/motion/motion.h"

namespace momu {

struct RetargetReport {
  std::string source;                    // the source skeleton's name
  std::string target;                    // the target skeleton's name
  bool identity = false;                 // step 1: the target joints taken as they are
  int source_joints = 0;                 // J of the source
  int matched = 0;                       // target joints taken from a source joint
  std::vector<std::string> synthesized;  // target joints placed from others (step 2)
  std::string up = "+y";                 // the source's up axis
  std::string units;                     // "m", "cm", ..., or "" when none fits
  double unit_to_cm = 1.0;               // the named unit's size in cm (1 for identity)
  double body_scale = 1.0;               // scale beyond the unit (source legs -> reference legs)
  // One line for logs: "retargeted skeleton 'bvh' (31 joints) to 'dwm23': 19 of 23 joints
  // matched, synthesized right_heel, left_heel, ...; up +y; units unknown; scale 5.87".
  std::string summary() const;
};
void to_json(nlohmann::json& j, const RetargetReport& r);

// The reference tree-bone lengths of dwm23 (cm, in the order of Skeleton::tree_bones()): the mean
// over Dance with Melody's training dances. -> [26] float64
at::Tensor dwm23_reference_bone_lengths();

// The range of each dwm23 tree bone (cm, tree_bones() order) over those dances: {min, max},
// each [26] float64.
std::pair<at::Tensor, at::Tensor> dwm23_bone_length_range();

// Maps `motion` (3D, J >= 1, any fps) onto `target` (only dwm23 is supported beyond the identity
// of step 1). Throws ConfigError for a 2D motion or another target, FormatError naming `what` and
// the missing body parts when the skeleton has too few recognisable joints.
// motion.joints: [T, J, 3] -> joints [T, 23, 3] float32 in cm, y up, fps kept
Motion retarget_motion(const Motion& motion, const Skeleton& target, RetargetReport* report = nullptr,
                       const std::string& what = "motion");

}  // namespace momu

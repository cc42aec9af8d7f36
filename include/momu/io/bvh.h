// BVH (Biovision hierarchy) motion files: parser, forward kinematics, writer, and export of joint
// positions by computing joint rotations from bone directions.
//
// Conventions. A joint's local transform is a translation by OFFSET (plus its position channels,
// when it has any) followed by the rotations of its rotation channels in the order they are listed:
// "CHANNELS 3 Zrotation Xrotation Yrotation" means R = Rz(a) * Rx(b) * Ry(c) acting on column
// vectors, angles in degrees. World transform = parent world transform * local transform. An End
// Site is a point at OFFSET in its parent's frame. The writer gives the root OFFSET 0 0 0, so files
// read the same under the "channels add to the offset" and "channels replace the offset" readings.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "momu/motion/motion.h"

namespace momu {

enum class BvhChannel { kXposition, kYposition, kZposition, kXrotation, kYrotation, kZrotation };

struct BvhJoint {
  std::string name;  // End Sites are named "<parent>_end"
  int parent = -1;   // index into Bvh::joints; -1 for the root
  std::array<double, 3> offset{0.0, 0.0, 0.0};
  std::vector<BvhChannel> channels;  // empty for an End Site
  bool end_site = false;
  int first_channel = 0;  // column of its first channel in Bvh::frames
};

struct Bvh {
  std::vector<BvhJoint> joints;  // file order: every parent before its children
  double frame_time_s = 1.0 / 30.0;
  at::Tensor frames;  // [T, C] float64 channel values (rotations in degrees)

  int num_channels() const;
  int64_t num_frames() const { return frames.defined() ? frames.size(0) : 0; }
  // 1 / frame_time_s, snapped to the nearest integer when within 0.01 (0.0083333 s -> 120).
  double fps() const;
  // Throws FormatError when the hierarchy or the frame table is inconsistent.
  void validate(const std::string& what = "bvh") const;
};

// Parses BVH text; `what` names the source. Throws FormatError with the line number on syntax
// errors and truncation ("file.bvh: line 190: frame 3 has 62 values, expected 96";
// "... MOTION announces 2752 frames but the file ends after 100"). Lines after the announced
// frames are ignored (some exporters write one more frame than they announce).
Bvh parse_bvh(const std::string& text, const std::string& what);
Bvh read_bvh(const std::filesystem::path& path);

// BVH text of `bvh` (channel values with 6 decimals).
std::string bvh_string(const Bvh& bvh);
void write_bvh(const std::filesystem::path& path, const Bvh& bvh);

// World positions of every joint (End Sites included) in every frame.
// -> [T, N, 3] float64, N = bvh.joints.size()
at::Tensor bvh_forward_kinematics(const Bvh& bvh);

struct BvhImportOptions {
  bool include_end_sites = true;  // End Sites become joints "<parent>_end"
};

// The skeleton of a BVH hierarchy: one joint per BVH joint (and End Site), tree = hierarchy,
// name "bvh", y up, root 0; foot joints are those named like *foot*, *toe* or *ankle*.
Skeleton bvh_skeleton(const Bvh& bvh, const BvhImportOptions& options = {});

// Forward kinematics as a Motion at fps(). -> joints [T, N, 3] float32
Motion bvh_to_motion(const Bvh& bvh, const BvhImportOptions& options = {});

struct BvhExportOptions {
  std::string rotation_order = "ZXY";  // Euler order of every joint's rotation channels
  // Joints with several children get one zero-offset helper joint "<joint>_to_<child>" per child,
  // so every child's direction is matched exactly even when the angles between the children
  // change (a rigid joint cannot follow that). Off: the joint's rotation comes from the frame of
  // two child directions and the other children follow rigidly.
  bool branch_helpers = true;
  double end_site_fraction = 0.25;  // End Site offset = this fraction of the incoming bone
};

// Joint rotations from bone directions. Rest pose: every tree bone with the clip's median length,
// along its mean direction over the clip (siblings: their directions in the one frame closest to
// their mean directions, so that a rigid joint can follow them all). Per frame, a joint with one
// child takes the smallest rotation (relative to its parent's frame) that turns the rest bone into
// the observed one; a joint with several children takes the frame built from two child directions
// (the pair furthest from parallel). The root has 6 channels (position + rotation) and OFFSET 0.
// Virtual joints become ordinary joints. Positions re-import exactly up to the bone length changes
// of the clip. Throws ConfigError when the skeleton has no kinematic tree or motion is not 3D.
// motion.joints: [T, J, 3] -> a Bvh with frames [T, C]
Bvh bvh_from_motion(const Motion& motion, const BvhExportOptions& options = {});

// write_bvh(path, bvh_from_motion(motion, options)).
void write_bvh_motion(const std::filesystem::path& path, const Motion& motion,
                      const BvhExportOptions& options = {});

// Rotation matrix of Euler angles (degrees) in the given order ("ZXY": R = Rz * Rx * Ry), and the
// inverse (angles in (-180, 180], the middle one in [-90, 90]). Row-major 3x3.
std::array<double, 9> euler_to_matrix(const std::array<double, 3>& degrees,
                                      const std::string& order);
std::array<double, 3> matrix_to_euler(const std::array<double, 9>& r, const std::string& order);

}  // namespace momu

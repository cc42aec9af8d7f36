// BVH (Biovision hierarchy) motion files: parser, forward kinematics and writer (export of joint
// positions: momu/io/bvh_export.h).
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

}  // namespace momu

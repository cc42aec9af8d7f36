// Export of joint positions to BVH: joint rotations computed from bone directions (the BVH
// format's conventions: momu/io/bvh.h).
#pragma once

#include <filesystem>
#include <string>

#include "momu/io/bvh.h"
#include "momu/motion/motion.h"

namespace momu {

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

}  // namespace momu

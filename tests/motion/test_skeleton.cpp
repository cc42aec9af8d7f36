#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "momu/core/error.h"
#include "momu/motion/skeleton.h"
#include "test_util.h"

using namespace momu;

TEST(Skeleton, EveryNamedSkeletonIsValidAndRoundTripsThroughJson) {
  for (const auto& name : skeleton_names()) {
    SCOPED_TRACE(name);
    const Skeleton s = skeleton_by_name(name);
    EXPECT_EQ(s.name, name);
    EXPECT_NO_THROW(s.validate());
    EXPECT_TRUE(s.has_tree());
    EXPECT_EQ(static_cast<int>(s.tree_bones().size()), s.num_points() - 1);
    nlohmann::json j = s;
    const Skeleton back = j.get<Skeleton>();
    EXPECT_EQ(back, s);
    EXPECT_EQ(nlohmann::json(back), j);
    EXPECT_EQ(guess_skeleton(s.num_joints(), s.dim).name, name);
  }
  EXPECT_EQ(guess_skeleton(5, 3).name, "generic");
}

TEST(Skeleton, UnknownNameListsTheKnownOnes) {
  try {
    skeleton_by_name("dwm24");
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("dwm23"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("smpl24"), std::string::npos) << e.what();
  }
}

TEST(Skeleton, DanceWithMelodyBonesAreExactlyTheReadmeEdges) {
  const Skeleton s = dance_with_melody_skeleton();
  ASSERT_EQ(s.num_joints(), 23);
  ASSERT_EQ(s.virtual_joints.size(), 4u);
  auto mid = [&](int a, int b) {
    for (size_t v = 0; v < s.virtual_joints.size(); ++v) {
      if (s.virtual_joints[v].a == a && s.virtual_joints[v].b == b) return 23 + static_cast<int>(v);
    }
    return -1;
  };
  const int m01 = mid(0, 1), m312 = mid(3, 12), m1011 = mid(10, 11), m1920 = mid(19, 20);
  ASSERT_GE(std::min({m01, m312, m1011, m1920}), 23);
  // README: 0-1, mid(0,1)-mid(3,12), 3-mid(3,12), 12-mid(3,12), 2-mid(3,12), 3-4, 4-5, 5-6,
  // 12-13, 13-14, 14-15, 2-7, 7-8, 8-9, 9-mid(10,11), 10-11, 2-16, 16-17, 17-18, 18-mid(19,20),
  // 19-20.
  std::set<std::pair<int, int>> readme = {
      {0, 1},     {m01, m312}, {3, m312}, {12, m312}, {2, m312}, {3, 4},      {4, 5},
      {5, 6},     {12, 13},    {13, 14},  {14, 15},   {2, 7},    {7, 8},      {8, 9},
      {9, m1011}, {10, 11},    {2, 16},   {16, 17},   {17, 18},  {18, m1920}, {19, 20}};
  std::set<std::pair<int, int>> ours;
  for (auto [a, b] : s.bones) ours.insert({std::min(a, b), std::max(a, b)});
  std::set<std::pair<int, int>> want;
  for (auto [a, b] : readme) want.insert({std::min(a, b), std::max(a, b)});
  EXPECT_EQ(ours, want);
  EXPECT_EQ(s.bones.size(), 21u);
  EXPECT_EQ(s.root, 2);
  EXPECT_EQ(s.foot_joints, (std::vector<int>{9, 10, 11, 18, 19, 20}));
  EXPECT_EQ(s.up_axis, 1);
  EXPECT_EQ(s.up_sign, 1);
  EXPECT_EQ(s.units, "cm");
}

TEST(Skeleton, ImageSkeletonsRecordThatYGrowsDownwards) {
  EXPECT_EQ(coco17_skeleton().up_sign, -1);
  EXPECT_EQ(openpose14_skeleton().up_sign, -1);
  EXPECT_EQ(coco17_3d_skeleton().up_sign, 1);
  EXPECT_EQ(coco17_skeleton().dim, 2);
  EXPECT_EQ(smpl24_skeleton().dim, 3);
}

TEST(Skeleton, ValidateRejectsBrokenTrees) {
  Skeleton s = smpl24_skeleton();
  s.parents[3] = 6;  // 3 -> 6 -> 3: a cycle, cut off from the root
  EXPECT_THROW(s.validate(), ConfigError);
  s = smpl24_skeleton();
  s.bones.push_back({0, 99});
  EXPECT_THROW(s.validate(), ConfigError);
  s = smpl24_skeleton();
  s.joint_names[5] = s.joint_names[4];
  EXPECT_THROW(s.validate(), ConfigError);
  nlohmann::json j = smpl24_skeleton();
  j["typo"] = 1;
  EXPECT_THROW(j.get<Skeleton>(), ConfigError);
}

TEST(Skeleton, BoneLengthsAndVirtualJoints) {
  const Skeleton s = dance_with_melody_skeleton();
  auto joints = torch::randn({5, 23, 3}, torch::kFloat32);
  auto points = with_virtual_joints(joints, s);
  ASSERT_EQ(points.sizes(), (std::vector<int64_t>{5, 27, 3}));
  EXPECT_TRUE(
      torch::allclose(points.select(1, 24), (joints.select(1, 3) + joints.select(1, 12)) / 2));
  auto lengths = bone_lengths(joints, s);
  ASSERT_EQ(lengths.sizes(), (std::vector<int64_t>{5, 21}));
  EXPECT_FLOAT_EQ(lengths[2][0].item<float>(), (joints[2][1] - joints[2][0]).norm().item<float>());
  EXPECT_THROW(bone_lengths(torch::zeros({5, 22, 3}), s), ShapeError);
  EXPECT_EQ(tree_bone_lengths(joints, s).size(1), 26);
}

TEST(Skeleton, ClampBoneLengthsSetsTreeBonesAndKeepsDirections) {
  const Skeleton s = dance_with_melody_skeleton();
  auto joints = torch::randn({7, 23, 3}, torch::kFloat64) * 20;
  const auto edges = s.tree_bones();
  auto target = torch::rand({static_cast<int64_t>(edges.size())}, torch::kFloat64) * 10 + 1;
  // Halves of a virtual joint must share a length for it to stay a midpoint.
  for (size_t e = 0; e < edges.size(); ++e) {
    for (size_t f = 0; f < e; ++f) {
      if (edges[e].first == edges[f].first && edges[e].first >= 23) target[e] = target[f];
    }
  }
  auto out = clamp_bone_lengths(joints, s, target, target);
  auto got = tree_bone_lengths(out, s);
  EXPECT_TRUE(torch::allclose(got, target.expand_as(got), 1e-9, 1e-9));
  EXPECT_TRUE(torch::allclose(out.select(1, 2), joints.select(1, 2)));  // root kept
  // Wide bounds change nothing.
  auto same =
      clamp_bone_lengths(joints, s, torch::zeros_like(target), torch::full_like(target, 1e9));
  EXPECT_TRUE(torch::allclose(same, joints, 1e-9, 1e-9));
}

namespace momu {
namespace {

TEST(Skeleton, KeepOnFloorRemovesSlowDriftAndKeepsShortJumps) {
  const Skeleton s = skeleton_by_name("dwm23");
  const int64_t t = 600;  // 20 s at 30 fps
  torch::manual_seed(2);
  auto pose = torch::randn({1, s.num_joints(), 3}) * 30;
  pose.select(2, s.up_axis).sub_(std::get<0>(pose.select(2, s.up_axis).min(1)).unsqueeze(1));  // lowest joint at 0
  auto joints = pose.repeat({t, 1, 1});
  auto drift = torch::linspace(0, 150, t);  // 1.5 m of slow vertical drift
  joints.select(2, s.up_axis).add_(drift.unsqueeze(1));
  joints.select(2, s.up_axis).narrow(0, 300, 9).add_(40.0);  // a 0.3 s jump of 40 cm
  auto out = keep_on_floor(joints, s, 60);
  auto low = std::get<0>(out.select(2, s.up_axis).min(1));
  EXPECT_LT(low.narrow(0, 100, 150).abs().max().item<double>(), 1.0) << "slow drift left";
  EXPECT_GT(low[304].item<double>(), 30.0) << "the jump was flattened";
  // Horizontal coordinates are untouched; 2D motions come back unchanged.
  EXPECT_TRUE(torch::allclose(out.select(2, 0), joints.select(2, 0)));
  const Skeleton s2 = skeleton_by_name("coco17");
  auto flat = torch::rand({10, s2.num_joints(), 2});
  EXPECT_TRUE(torch::equal(keep_on_floor(flat, s2, 5), flat));
}

}  // namespace
}  // namespace momu

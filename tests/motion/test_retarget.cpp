// Retargeting onto the model's skeleton (include/momu/motion/retarget.h, joint_roles.h, issue 16):
// joint names of CMU, Mixamo, 3ds Max and snake_case skeletons; the identity for dwm23; synthetic
// SMPL-24 (m, z up) and COCO-17 3D motions made from a dwm23 dancer come back with its kinematics
// (kinematic beats within one frame); real captures (assimp's CMU and Boxing_Toes BVHs); refusals.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <iostream>
#include <vector>

#include "io/npy.h"
#include "momu/core/error.h"
#include "momu/io/bvh.h"
#include "momu/io/motion_file.h"
#include "momu/motion/kinematic_beats.h"
#include "momu/motion/retarget.h"
#include "momu/motion/skeleton.h"
#include "motion/joint_roles.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace momu {
namespace {

const fs::path kAssimpBvh = "/usr/share/assimp/models/BVH";

Skeleton named(const std::vector<std::string>& names) {
  Skeleton s = generic_skeleton(static_cast<int>(names.size()), 3);
  s.name = "test";
  s.joint_names = names;
  return s;
}

int role(const JointRoles& r, BodyRole b) { return r.at(b); }

// A dwm23 dancer: the Dance with Melody mean pose (cm, body frame x left, y up, z forward),
// stepping at 2 Hz (feet lift in turn), bobbing, swinging its arms, turning and travelling.
Motion stepping_dancer(double seconds = 8.0, double fps = 30.0) {
  static const double rest[23][3] = {
      {-6.6, 44.4, -11.6}, {-0.8, 46.2, -9.8},  {0, 0, 0},           {-15.2, 28.8, -5.5}, {-36.5, 20.4, -2.8},
      {-37.6, 20.6, 5.0},  {-35.4, 22.3, 13.9}, {-9.9, -15.0, -4.0}, {-13.7, -59.9, 1.5}, {-12.9, -88.8, -7.5},
      {-7.8, -95.4, -13.8}, {-12.7, -100.6, 2.7}, {11.7, 30.8, -7.8}, {32.9, 23.2, -5.8},  {38.6, 33.3, -2.4},
      {44.4, 31.8, 0.6},   {11.1, -14.3, -4.0}, {15.1, -60.4, 0.7},  {13.2, -89.5, -8.8}, {6.3, -94.8, -15.4},
      {14.8, -100.1, 1.1}, {36.8, 30.3, -3.9},  {-34.3, 21.8, 16.1}};
  const int64_t t = static_cast<int64_t>(seconds * fps);
  at::Tensor j = torch::zeros({t, 23, 3}, torch::kFloat64);
  auto a = j.accessor<double, 3>();
  const int right_leg[] = {8, 9, 10, 11}, left_leg[] = {17, 18, 19, 20};
  for (int64_t f = 0; f < t; ++f) {
    const double time = f / fps, ph = 2 * M_PI * 2.0 * time;
    const double yaw = 0.3 * time, c = std::cos(yaw), s = std::sin(yaw);
    double p[23][3];
    for (int k = 0; k < 23; ++k) {
      for (int d = 0; d < 3; ++d) p[k][d] = rest[k][d];
    }
    const double lift_r = std::max(0.0, std::sin(ph)) * 12.0, lift_l = std::max(0.0, -std::sin(ph)) * 12.0;
    for (int k : right_leg) p[k][1] += lift_r * (k == 8 ? 0.5 : 1.0), p[k][2] += lift_r * 0.6;
    for (int k : left_leg) p[k][1] += lift_l * (k == 17 ? 0.5 : 1.0), p[k][2] += lift_l * 0.6;
    for (int k : {4, 5, 6, 22}) p[k][2] += 15.0 * std::sin(ph / 2) * (k == 4 ? 0.5 : 1.0);
    for (int k : {13, 14, 15, 21}) p[k][2] -= 15.0 * std::sin(ph / 2) * (k == 13 ? 0.5 : 1.0);
    const double bob = 4.0 * std::cos(2 * ph);
    for (int k = 0; k < 23; ++k) {
      const bool leg = (k >= 7 && k <= 11) || (k >= 16 && k <= 20);
      const double x = p[k][0], y = p[k][1] + 100.0 + (leg && k != 7 && k != 16 ? 0.0 : bob), z = p[k][2];
      a[f][k][0] = c * x + s * z + 20.0 * time;
      a[f][k][1] = y;
      a[f][k][2] = -s * x + c * z + 5.0 * time;
    }
  }
  Motion m;
  m.joints = j.to(torch::kFloat32);
  m.fps = fps;
  m.skeleton = dance_with_melody_skeleton();
  return m;
}

// The dancer on SMPL-24 joints, in metres, z up.
Motion as_smpl(const Motion& d) {
  const at::Tensor p = with_virtual_joints(d.joints.to(torch::kFloat64), d.skeleton);  // [T, 27, 3]
  auto P = [&](int i) { return p.select(1, i); };
  const at::Tensor pelvis = P(2), neck = P(24);
  std::vector<at::Tensor> j = {
      pelvis,  P(16), P(7),  pelvis + (neck - pelvis) * 0.25, P(17), P(8), pelvis + (neck - pelvis) * 0.5,
      P(18),   P(9),  pelvis + (neck - pelvis) * 0.75, P(20), P(11), neck, 0.5 * (neck + P(12)),
      0.5 * (neck + P(3)), P(23), P(12), P(3), P(13), P(4), P(14), P(5), P(15), P(6)};
  at::Tensor x = torch::stack(j, 1) / 100.0;  // m
  // y up -> z up: (x, y, z) -> (x, -z, y)
  x = torch::stack({x.select(2, 0), -x.select(2, 2), x.select(2, 1)}, 2);
  Motion m;
  m.joints = x.to(torch::kFloat32);
  m.fps = d.fps;
  m.skeleton = smpl24_skeleton();
  return m;
}

// The dancer on COCO-17 3D keypoints (cm, y up); the ears are its two head points.
Motion as_coco3d(const Motion& d) {
  const at::Tensor p = with_virtual_joints(d.joints.to(torch::kFloat64), d.skeleton);
  auto P = [&](int i) { return p.select(1, i); };
  const at::Tensor head = P(23);
  std::vector<at::Tensor> j = {head + torch::tensor({0.0, 0.0, 8.0}, torch::kFloat64), head, head, P(1), P(0),
                               P(12), P(3), P(13), P(4), P(14), P(5), P(16), P(7), P(17), P(8), P(18), P(9)};
  Motion m;
  m.joints = torch::stack(j, 1).to(torch::kFloat32);
  m.fps = d.fps;
  m.skeleton = coco17_3d_skeleton();
  return m;
}

// The body joints the retargeting takes from the source (hips, knees, ankles, shoulders, elbows,
// wrists): their indices in the source and in dwm23.
const BodyRole kBody[] = {BodyRole::kRightHip, BodyRole::kRightKnee, BodyRole::kRightAnkle, BodyRole::kLeftHip,
                          BodyRole::kLeftKnee, BodyRole::kLeftAnkle, BodyRole::kRightShoulder, BodyRole::kRightElbow,
                          BodyRole::kRightWrist, BodyRole::kLeftShoulder, BodyRole::kLeftElbow, BodyRole::kLeftWrist};
const int64_t kBodyDwm[] = {7, 8, 9, 16, 17, 18, 3, 4, 5, 12, 13, 14};

at::Tensor body_joints(const Motion& m) {
  std::vector<int64_t> idx;
  if (m.skeleton.name == "dwm23") {
    idx.assign(std::begin(kBodyDwm), std::end(kBodyDwm));
  } else {
    const JointRoles r = find_joint_roles(m.skeleton);
    for (BodyRole b : kBody) idx.push_back(r.at(b));
  }
  return with_virtual_joints(m.joints, m.skeleton).index_select(1, torch::tensor(idx, torch::kLong));
}

// The kinematic beats (Bailando, 60 fps) of the body joints of `b` are those of `a`: at least
// `fraction` of the beats of each within one frame of one of the other's. Retargeting rotates and
// scales the whole motion (which moves no velocity minimum); the bones it clamps into the model's
// range change the joints' speeds a little, which moves a few shallow minima by a few frames or
// makes one appear or vanish.
void expect_beats_match(const Motion& a, const Motion& b, double fraction, const std::string& what) {
  const KinematicBeats ka = kinematic_beats(body_joints(a), a.fps), kb = kinematic_beats(body_joints(b), b.fps);
  ASSERT_FALSE(ka.beat_frames.empty()) << what;
  ASSERT_FALSE(kb.beat_frames.empty()) << what;
  auto within_one = [](const std::vector<int64_t>& x, const std::vector<int64_t>& y) {
    int n = 0;
    for (int64_t u : x) {
      int64_t best = 1 << 30;
      for (int64_t v : y) best = std::min(best, std::abs(u - v));
      n += best <= 1;
    }
    return static_cast<double>(n) / static_cast<double>(x.size());
  };
  const double ab = within_one(ka.beat_frames, kb.beat_frames), ba = within_one(kb.beat_frames, ka.beat_frames);
  std::cout << "[ retarget ] " << what << ": " << ka.beat_frames.size() << " / " << kb.beat_frames.size()
            << " kinematic beats of the body joints; within one frame at " << ka.fps << " fps: " << ab << " / "
            << ba << "\n";
  EXPECT_GE(std::min(ab, ba), fraction) << what;
}

void expect_dwm_body(const Motion& m, const std::string& what) {
  ASSERT_EQ(m.skeleton.name, "dwm23") << what;
  ASSERT_EQ(m.joints.size(1), 23) << what;
  const at::Tensor lengths = tree_bone_lengths(m.joints.to(torch::kFloat64), m.skeleton);  // [T, 26]
  const auto [lo, hi] = dwm23_bone_length_range();
  EXPECT_GE((lengths - lo).min().item<double>(), -1e-3) << what << ": bones in the model's range";
  EXPECT_LE((lengths - hi).max().item<double>(), 1e-3) << what << ": bones in the model's range";
  const at::Tensor y = m.joints.select(2, 1).mean(0);  // mean height per joint
  EXPECT_GT(y[0].item<double>(), y[2].item<double>()) << what << ": head above the pelvis";
  EXPECT_GT(y[2].item<double>(), y[9].item<double>()) << what << ": pelvis above the ankles";
  // Left on the left: with x left, y up, z forward right-handed, the toes are ahead of the heels.
  const at::Tensor side = m.joints.select(1, 16) - m.joints.select(1, 7);  // right hip -> left hip
  const at::Tensor foot = m.joints.select(1, 11) - m.joints.select(1, 10);  // right heel -> toe
  const at::Tensor up = torch::tensor({0.0f, 1.0f, 0.0f}).expand_as(side);
  const at::Tensor forward = torch::cross(side, up, 1);
  EXPECT_GT((forward * foot).sum(1).mean().item<double>(), 0.0) << what << ": toes point forward";
}

TEST(JointRoles, ReadsCmuMixamoMaxAndSnakeCaseNames) {
  const Skeleton cmu = named({"Hips", "LHipJoint", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase",
                              "LeftToeBase_end", "RHipJoint", "RightUpLeg", "RightLeg", "RightFoot", "LowerBack",
                              "Spine", "Neck", "Neck1", "Head", "LeftShoulder", "LeftArm", "LeftForeArm",
                              "LeftHand", "LeftFingerBase", "LFingers", "LFingers_end", "LThumb"});
  JointRoles r = find_joint_roles(cmu);
  EXPECT_EQ(role(r, BodyRole::kPelvis), 0);
  EXPECT_EQ(role(r, BodyRole::kLeftHip), 2);
  EXPECT_EQ(role(r, BodyRole::kLeftKnee), 3);
  EXPECT_EQ(role(r, BodyRole::kLeftAnkle), 4);
  EXPECT_EQ(role(r, BodyRole::kLeftToe), 5);
  EXPECT_EQ(role(r, BodyRole::kLeftToeTip), 6);
  EXPECT_EQ(role(r, BodyRole::kRightHip), 8);
  EXPECT_EQ(role(r, BodyRole::kRightAnkle), 10);
  EXPECT_EQ(role(r, BodyRole::kNeck), 13);
  EXPECT_EQ(role(r, BodyRole::kHead), 15);
  EXPECT_EQ(role(r, BodyRole::kLeftShoulder), 17) << "LeftArm, not the clavicle LeftShoulder";
  EXPECT_EQ(role(r, BodyRole::kLeftElbow), 18);
  EXPECT_EQ(role(r, BodyRole::kLeftWrist), 19) << "CMU's LeftHand is the wrist";
  EXPECT_EQ(role(r, BodyRole::kLeftHand), 21);
  EXPECT_EQ(role(r, BodyRole::kLeftHandTip), 22);
  EXPECT_EQ(role(r, BodyRole::kRightShoulder), -1);

  r = find_joint_roles(named({"mixamorig:Hips", "mixamorig:LeftUpLeg", "mixamorig:LeftLeg", "mixamorig:LeftFoot",
                              "mixamorig:LeftToeBase", "mixamorig:LeftToe_End", "mixamorig:HeadTop_End",
                              "mixamorig:RightArm", "mixamorig:RightHandMiddle1", "mixamorig:RightHandMiddle4"}));
  EXPECT_EQ(role(r, BodyRole::kPelvis), 0);
  EXPECT_EQ(role(r, BodyRole::kLeftToeTip), 5);
  EXPECT_EQ(role(r, BodyRole::kHeadTop), 6);
  EXPECT_EQ(role(r, BodyRole::kRightShoulder), 7);
  EXPECT_EQ(role(r, BodyRole::kRightHand), 8);
  EXPECT_EQ(role(r, BodyRole::kRightHandTip), 9);

  // 3ds Max / Boxing_Toes style: the collar is the clavicle, the shoulder the joint.
  r = find_joint_roles(named({"Hips", "LeftCollar", "LeftShoulder", "LeftElbow", "LeftWrist", "LeftWrist_end",
                              "LeftHip", "LeftKnee", "LeftAnkle", "LeftToes", "LeftToes_end", "Bip01 R Thigh",
                              "knee_r", "ankle.R", "r_shoulder", "RightWrist"}));
  EXPECT_EQ(role(r, BodyRole::kLeftShoulder), 2);
  EXPECT_EQ(role(r, BodyRole::kLeftWrist), 4);
  EXPECT_EQ(role(r, BodyRole::kLeftHand), 5);
  EXPECT_EQ(role(r, BodyRole::kLeftHip), 6);
  EXPECT_EQ(role(r, BodyRole::kLeftAnkle), 8);
  EXPECT_EQ(role(r, BodyRole::kLeftToe), 9);
  EXPECT_EQ(role(r, BodyRole::kLeftToeTip), 10);
  EXPECT_EQ(role(r, BodyRole::kRightHip), 11);
  EXPECT_EQ(role(r, BodyRole::kRightKnee), 12);
  EXPECT_EQ(role(r, BodyRole::kRightAnkle), 13);
  EXPECT_EQ(role(r, BodyRole::kRightShoulder), 14);
  EXPECT_EQ(role(r, BodyRole::kRightWrist), 15);

  // The named skeletons: SMPL's foot is its toe base, COCO's pelvis and neck are virtual.
  r = find_joint_roles(smpl24_skeleton());
  EXPECT_EQ(role(r, BodyRole::kLeftAnkle), 7);
  EXPECT_EQ(role(r, BodyRole::kLeftToe), 10);
  EXPECT_EQ(role(r, BodyRole::kLeftShoulder), 16);
  EXPECT_EQ(role(r, BodyRole::kRightHand), 23);
  r = find_joint_roles(coco17_3d_skeleton());
  EXPECT_EQ(role(r, BodyRole::kPelvis), 17);
  EXPECT_EQ(role(r, BodyRole::kLeftEar), 3);
  EXPECT_EQ(role(r, BodyRole::kRightAnkle), 16);
  r = find_joint_roles(dance_with_melody_skeleton());
  EXPECT_EQ(role(r, BodyRole::kRightHeel), 10);
  EXPECT_EQ(role(r, BodyRole::kRightToe), 11);
  EXPECT_EQ(role(r, BodyRole::kLeftHandTip), 21);
}

TEST(Retarget, TheModelsOwnSkeletonIsTheIdentity) {
  const Motion d = stepping_dancer();
  RetargetReport r;
  const Motion out = retarget_motion(d, dance_with_melody_skeleton(), &r);
  EXPECT_TRUE(r.identity);
  EXPECT_TRUE(torch::equal(out.joints, d.joints));
  EXPECT_NE(r.summary().find("identity"), std::string::npos) << r.summary();
  // Exported to BVH (helper joints, End Sites) and read back: the dwm23 joints by name.
  test::TempDir tmp;
  save_motion(tmp.path() / "d.bvh", d);
  const Motion back = load_motion(tmp.path() / "d.bvh");
  ASSERT_EQ(back.skeleton.name, "bvh");
  const Motion again = retarget_motion(back, dance_with_melody_skeleton(), &r);
  EXPECT_TRUE(r.identity);
  EXPECT_EQ(again.skeleton, dance_with_melody_skeleton());
  EXPECT_TRUE(torch::equal(again.joints, select_joints_by_name(back, dance_with_melody_skeleton()).joints));
  // The BVH keeps each bone at the clip's median length; so does the dancer's rigid part.
  const double err = (again.joints - d.joints).abs().select(1, 2).max().item<double>();
  EXPECT_LT(err, 1e-3) << "the root (pelvis) comes back exactly";
  // A real Dance with Melody dance, the same way.
  const fs::path dance = test::dwm_dir() / "DANCE_C_2";
  if (!fs::is_directory(dance)) {
    std::cout << "[ retarget ] " << dance << " is absent: the real dance's round trip is skipped\n";
    return;
  }
  const Motion real = load_motion(dance);
  save_motion(tmp.path() / "real.bvh", real);
  const Motion real_back = load_motion(tmp.path() / "real.bvh");
  const Motion mapped = retarget_motion(real_back, dance_with_melody_skeleton(), &r);
  EXPECT_TRUE(r.identity);
  EXPECT_TRUE(torch::equal(mapped.joints, select_joints_by_name(real_back, dance_with_melody_skeleton()).joints));
  EXPECT_LT((mapped.joints - real.joints).abs().select(1, 2).max().item<double>(), 1e-3);
}

TEST(Retarget, SyntheticSmplInMetresZUpKeepsTheDancersKinematics) {
  const Motion d = stepping_dancer();
  RetargetReport r;
  const Motion out = retarget_motion(as_smpl(d), dance_with_melody_skeleton(), &r);
  std::cout << "[ retarget ] " << r.summary() << "\n";
  EXPECT_FALSE(r.identity);
  EXPECT_EQ(r.up, "+z");
  EXPECT_EQ(r.units, "m");
  EXPECT_NEAR(r.body_scale, 1.0, 0.2);
  EXPECT_GE(r.matched, 17);
  expect_dwm_body(out, "smpl24");
  expect_beats_match(d, out, 1.0, "smpl24");
  // The limbs point where the dancer's did (directions, since the bones are rescaled).
  for (auto [a, b] : std::vector<std::pair<int, int>>{{7, 8}, {8, 9}, {3, 4}, {12, 13}, {16, 17}}) {
    const at::Tensor u = d.joints.select(1, b) - d.joints.select(1, a), v = out.joints.select(1, b) - out.joints.select(1, a);
    const double cosine = torch::cosine_similarity(u, v, 1).min().item<double>();
    EXPECT_GT(cosine, 0.99) << "bone " << a << "-" << b;
  }
}

TEST(Retarget, SyntheticCoco3dTakesItsEarsAsTheHeadPoints) {
  const Motion d = stepping_dancer();
  RetargetReport r;
  const Motion out = retarget_motion(as_coco3d(d), dance_with_melody_skeleton(), &r);
  std::cout << "[ retarget ] " << r.summary() << "\n";
  EXPECT_EQ(r.up, "+y");
  EXPECT_EQ(r.units, "cm");
  expect_dwm_body(out, "coco17_3d");
  expect_beats_match(d, out, 1.0, "coco17_3d");
  bool placed_head = false;
  for (const auto& s : r.synthesized) placed_head = placed_head || s == "head_0";
  EXPECT_FALSE(placed_head) << r.summary();
}

TEST(Retarget, RealCapturesFromCmuAndBoxingToes) {
  for (const char* name : {"01_01.bvh", "01_03.bvh", "Boxing_Toes.bvh"}) {
    const fs::path path = kAssimpBvh / name;
    if (!fs::exists(path)) GTEST_SKIP() << "skipped: " << path << " is absent (Debian package assimp-testmodels)";
    const Motion m = load_motion(path);
    RetargetReport r;
    const Motion out = retarget_motion(m, dance_with_melody_skeleton(), &r, path.string());
    std::cout << "[ retarget ] " << name << ": " << r.summary() << "\n";
    EXPECT_EQ(r.up, "+y") << name;
    EXPECT_GE(r.matched, 15) << name;
    EXPECT_EQ(out.fps, m.fps);
    EXPECT_EQ(out.num_frames(), m.num_frames());
    expect_dwm_body(out, name);
    expect_beats_match(m, out, 0.85, name);
  }
}

TEST(Retarget, RefusesTwoDimensionalAndUnrecognisableSkeletons) {
  Motion flat;
  flat.joints = torch::rand({30, 17, 2}) * 100;
  flat.fps = 30;
  flat.skeleton = coco17_skeleton();
  try {
    retarget_motion(flat, dance_with_melody_skeleton(), nullptr, "pose.npy");
    FAIL() << "a 2D motion was retargeted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("pose.npy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2D"), std::string::npos) << e.what();
  }
  Motion odd;
  odd.joints = torch::rand({30, 4, 3});
  odd.fps = 30;
  odd.skeleton = named({"Hips", "LeftUpLeg", "RightUpLeg", "Head"});
  try {
    retarget_motion(odd, dance_with_melody_skeleton(), nullptr, "odd.bvh");
    FAIL() << "a skeleton without knees was retargeted";
  } catch (const FormatError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("odd.bvh"), std::string::npos) << m;
    EXPECT_NE(m.find("left knee"), std::string::npos) << m;
    EXPECT_NE(m.find("right wrist"), std::string::npos) << m;
    EXPECT_NE(m.find("recognised: pelvis, head, right hip, left hip"), std::string::npos) << m;
  }
  EXPECT_THROW(retarget_motion(stepping_dancer(), smpl24_skeleton()), ConfigError);
}

}  // namespace
}  // namespace momu

namespace momu {
namespace {

bool has_model() { return fs::is_directory(test::source_dir() / "models" / "default" / "vae"); }

// The README's motion-input examples, with 4 sampler steps to keep the test short.
TEST(RetargetCli, MotionToMusicTakesCmuAndMomusOwnBvh) {
  if (!has_model()) GTEST_SKIP() << "skipped: models/default is absent";
  const fs::path cmu = kAssimpBvh / "01_01.bvh";
  if (!fs::exists(cmu)) GTEST_SKIP() << "skipped: " << cmu << " is absent (Debian package assimp-testmodels)";
  test::TempDir tmp;
  auto r = test::run_momu("--threads 2 generate --task motion2music --motion " + test::shell_quoted(cmu) + " --out " +
                          test::shell_quoted(tmp.path() / "m.wav") + " --steps 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("01_01.bvh: retargeted skeleton 'bvh'"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "m.wav"));
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_FALSE(report["retarget"]["identity"].get<bool>());
  EXPECT_NEAR(report["seconds"].get<double>(), 2752 / 120.0, 0.05);

  r = test::run_momu("encode --vae " + test::shell_quoted(test::source_dir() / "models" / "default" / "vae") + " --motion " +
                     test::shell_quoted(kAssimpBvh / "Boxing_Toes.bvh") + " --out " + test::shell_quoted(tmp.path() / "l.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Boxing_Toes.bvh: retargeted"), std::string::npos) << r.err;

  // SMPL-24 joints in an .npy (metres, z up), as AMASS gives them.
  write_npy(tmp.path() / "smpl.npy", as_smpl(stepping_dancer()).joints);
  r = test::run_momu("--threads 2 generate --task motion2music --motion " + test::shell_quoted(tmp.path() / "smpl.npy") +
                     " --skeleton smpl24 --input-fps 30 --out " + test::shell_quoted(tmp.path() / "smpl.wav") + " --steps 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("retargeted skeleton 'smpl24' (24 joints) to 'dwm23'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("up +z; units m"), std::string::npos) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out)["seconds"].get<double>(), 8.0, 0.05);

  // A dance momu made, written as BVH and read back: the identity.
  const fs::path song = "/usr/share/games/titanion/sounds/musics/ttn1.ogg";
  if (fs::exists(song)) {
    r = test::run_momu("--threads 2 generate --task music2motion --music " + test::shell_quoted(song) + " --out " +
                       test::shell_quoted(tmp.path() / "ttn1.bvh") + " --steps 4");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = test::run_momu("--threads 2 generate --task motion2music --motion " + test::shell_quoted(tmp.path() / "ttn1.bvh") +
                       " --out " + test::shell_quoted(tmp.path() / "ttn1_music.wav") + " --steps 4");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("the same joints by name (identity)"), std::string::npos) << r.err;
    EXPECT_TRUE(nlohmann::json::parse(r.out)["retarget"]["identity"].get<bool>());
  }

  // A skeleton without knees or arms: exit 4 (format) naming what is missing, nothing written.
  const fs::path odd = tmp.path() / "odd.bvh";
  std::ofstream(odd) << (
                   "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation "
                   "Xrotation Yrotation\n JOINT LeftUpLeg\n {\n  OFFSET 10 -5 0\n  CHANNELS 3 Zrotation Xrotation "
                   "Yrotation\n  End Site\n  {\n   OFFSET 0 -40 0\n  }\n }\n JOINT Head\n {\n  OFFSET 0 50 0\n  "
                   "CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 10 0\n  }\n }\n}\n"
                   "MOTION\nFrames: 2\nFrame Time: 0.04\n0 90 0 0 0 0 0 0 0 0 0 0\n0 90 0 0 0 0 0 0 0 0 0 0\n");
  ASSERT_TRUE(fs::exists(odd));
  r = test::run_momu("generate --task motion2music --motion " + test::shell_quoted(odd) + " --out " + test::shell_quoted(tmp.path() / "odd.wav"));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("odd.bvh"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no joint found for right hip, right knee"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "odd.wav"));
}

}  // namespace
}  // namespace momu

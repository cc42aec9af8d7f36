#include <torch/torch.h>

#include <random>

#include "core/atomic_file.h"
#include "golden_util.h"
#include "io/io_limits.h"
#include "io/npy.h"
#include "momu/core/error.h"
#include "momu/io/bvh_export.h"
#include "momu/io/motion_file.h"
#include "motion/rotation.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

const fs::path kCmuDir = "/usr/share/assimp/models/BVH";

#define MOMU_REQUIRE_CMU() MOMU_REQUIRE_DIR(kCmuDir)

// Largest |a - b| of each joint over time divided by its tree bone length (bones of length > 0).
struct RoundTripError {
  double max_relative = 0;  // max over joints with a bone of err / bone length
  double max_abs = 0;
  double median_bone = 0;
};

RoundTripError compare(const at::Tensor& a, const at::Tensor& b, const Skeleton& s) {
  RoundTripError r;
  auto err = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm(2, -1).amax(0);     // [J]
  auto lengths = std::get<0>(tree_bone_lengths(b.to(torch::kFloat64), s).median(0));  // [E]
  r.max_abs = err.max().item<double>();
  r.median_bone = lengths.median().item<double>();
  const auto edges = s.tree_bones();
  for (size_t e = 0; e < edges.size(); ++e) {
    const int c = edges[e].second;
    const double len = lengths[e].item<double>();
    if (c >= s.num_joints() || len < 1e-6) continue;
    r.max_relative = std::max(r.max_relative, err[c].item<double>() / len);
  }
  return r;
}

std::string bvh_error_of(const std::string& text) {
  try {
    parse_bvh(text, "cut.bvh");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Bvh, EulerAnglesRoundTripInEveryOrder) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> angle(-179.0, 179.0), mid(-89.0, 89.0);
  for (const char* order : {"XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"}) {
    SCOPED_TRACE(order);
    for (int i = 0; i < 200; ++i) {
      const std::array<double, 3> a{angle(rng), mid(rng), angle(rng)};
      const auto r = euler_to_matrix(a, order);
      const auto back = matrix_to_euler(r, order);
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(back[k], a[k], 1e-8);
    }
    // Gimbal lock still gives a rotation that composes back.
    const auto r = euler_to_matrix({30.0, 90.0, 10.0}, order);
    const auto r2 = euler_to_matrix(matrix_to_euler(r, order), order);
    for (int k = 0; k < 9; ++k) EXPECT_NEAR(r[k], r2[k], 1e-9);
  }
  EXPECT_THROW(matrix_to_euler(euler_to_matrix({0, 0, 0}, "XYZ"), "XXY"), ConfigError);
  // "ZXY" is Rz * Rx * Ry: rotating x by Ry(90) first gives -z.
  const auto r = euler_to_matrix({0, 0, 90}, "ZXY");
  EXPECT_NEAR(r[6], -1.0, 1e-12);
}

TEST(Bvh, ParsesTheCmuCapturesAndBoneLengthsStayConstant) {
  MOMU_REQUIRE_CMU();
  struct Case {
    const char* file;
    int64_t frames;
    size_t joints;  // joints + End Sites
    double fps;
  };
  for (const Case& c : {Case{"01_01.bvh", 2752, 38, 120.0}, Case{"01_03.bvh", 4511, 38, 120.0},
                        Case{"Boxing_Toes.bvh", 3069, 26, 100.0}}) {
    SCOPED_TRACE(c.file);
    const Bvh bvh = read_bvh(kCmuDir / c.file);
    EXPECT_EQ(bvh.num_frames(), c.frames);
    EXPECT_EQ(bvh.joints.size(), c.joints);
    EXPECT_EQ(bvh.fps(), c.fps);
    EXPECT_EQ(bvh.joints[0].channels.size(), 6u);
    auto pos = bvh_forward_kinematics(bvh);  // [T, N, 3]
    ASSERT_EQ(pos.size(0), c.frames);
    // The root follows its position channels; every other joint stays at |OFFSET| from its parent.
    EXPECT_TRUE(torch::allclose(pos.select(1, 0), bvh.frames.slice(1, 0, 3)));
    for (size_t i = 1; i < bvh.joints.size(); ++i) {
      const auto& j = bvh.joints[i];
      const double want = std::sqrt(j.offset[0] * j.offset[0] + j.offset[1] * j.offset[1] +
                                    j.offset[2] * j.offset[2]);
      auto len = (pos.select(1, static_cast<int64_t>(i)) - pos.select(1, j.parent)).norm(2, -1);
      EXPECT_LT((len - want).abs().max().item<double>(), 1e-9 * std::max(1.0, want)) << j.name;
    }
    Motion m = bvh_to_motion(bvh);
    EXPECT_EQ(m.skeleton.num_joints(), static_cast<int>(c.joints));
    EXPECT_FALSE(m.skeleton.foot_joints.empty());
    EXPECT_NO_THROW(m.validate());
  }
}

TEST(Bvh, WriteAndParseAgainGivesTheSamePositions) {
  MOMU_REQUIRE_CMU();
  const Bvh bvh = read_bvh(kCmuDir / "Boxing_Toes.bvh");
  const Bvh again = parse_bvh(bvh_string(bvh), "again.bvh");
  EXPECT_EQ(again.joints.size(), bvh.joints.size());
  EXPECT_LT(
      (bvh_forward_kinematics(again) - bvh_forward_kinematics(bvh)).abs().max().item<double>(),
      1e-4);
}

TEST(Bvh, ExportFromCmuPositionsReimportsWithin1e3OfTheBoneLength) {
  MOMU_REQUIRE_CMU();
  test::TempDir tmp;
  for (const char* file : {"01_01.bvh", "Boxing_Toes.bvh"}) {
    SCOPED_TRACE(file);
    const Motion original = load_motion(kCmuDir / file);
    for (bool helpers : {true, false}) {
      MotionSaveOptions o;
      o.bvh.branch_helpers = helpers;
      const auto out = tmp.path() / "cmu.bvh";
      save_motion(out, original, o);
      const Motion back = select_joints_by_name(load_motion(out), original.skeleton);
      EXPECT_EQ(back.fps, original.fps);
      const RoundTripError e = compare(back.joints, original.joints, original.skeleton);
      RecordProperty(std::string(file) + (helpers ? "_helpers" : "_rigid") + "_max_rel_err",
                     std::to_string(e.max_relative));
      std::cout << "[ bvh ] " << file << (helpers ? " with helpers" : " rigid")
                << ": max error / bone length " << e.max_relative << ", max error " << e.max_abs
                << " (median bone " << e.median_bone << ")\n";
      // CMU skeletons are rigid, so even without helpers every direction can be matched.
      EXPECT_LT(e.max_relative, 1e-3);
    }
  }
}

TEST(Bvh, ExportOfDanceWithMelodyMotionReimports) {
  MOMU_REQUIRE_GOLDEN();
  test::TempDir tmp;
  Motion m;
  m.skeleton = dance_with_melody_skeleton();
  m.fps = 25;
  m.joints = read_npy(test::golden_dir() / "DANCE_C_2_motion.npy").data;
  // With the clip's median bone lengths imposed, the BVH can follow it exactly.
  auto median = std::get<0>(tree_bone_lengths(m.joints.to(torch::kFloat64), m.skeleton).median(0));
  Motion rigid = m;
  rigid.joints = clamp_bone_lengths(m.joints, m.skeleton, median, median);
  save_motion(tmp.path() / "rigid.bvh", rigid);
  MotionLoadOptions as_dwm;
  as_dwm.skeleton = "dwm23";
  const Motion back = load_motion(tmp.path() / "rigid.bvh", as_dwm);
  EXPECT_EQ(back.skeleton.name, "dwm23");
  EXPECT_EQ(back.fps, 25.0);
  const RoundTripError e = compare(back.joints, rigid.joints, m.skeleton);
  std::cout << "[ bvh ] DANCE_C_2 with median bone lengths: max error / bone length "
            << e.max_relative << ", max error " << e.max_abs << " cm\n";
  EXPECT_LT(e.max_relative, 1e-3);
  // The captured motion itself: the BVH keeps every bone direction, and positions move by the
  // clip's bone length changes only.
  save_motion(tmp.path() / "raw.bvh", m);
  const Motion raw = load_motion(tmp.path() / "raw.bvh", as_dwm);
  const RoundTripError r = compare(raw.joints, m.joints, m.skeleton);
  auto lengths = tree_bone_lengths(m.joints.to(torch::kFloat64), m.skeleton);
  const double spread = (lengths - median).abs().max().item<double>();
  std::cout << "[ bvh ] DANCE_C_2 as captured: max error " << r.max_abs
            << " cm (largest bone length deviation from its median " << spread << " cm)\n";
  RecordProperty("dwm_raw_max_error_cm", std::to_string(r.max_abs));
  EXPECT_LT(r.max_abs, 30.0);
  // Root trajectory is exact.
  EXPECT_LT((raw.joints.select(1, 2) - m.joints.select(1, 2)).abs().max().item<float>(), 1e-3);
}

TEST(Bvh, TruncatedAndBrokenFilesGiveLineNumbers) {
  MOMU_REQUIRE_CMU();
  const std::string text = read_file_bytes(kCmuDir / "01_01.bvh");
  // Cut inside the hierarchy.
  std::string msg = bvh_error_of(text.substr(0, text.find("JOINT RightUpLeg")));
  EXPECT_NE(msg.find("cut.bvh: line "), std::string::npos) << msg;
  EXPECT_NE(msg.find("the file ends"), std::string::npos) << msg;
  // Cut between frames.
  const size_t motion = text.find("MOTION");
  size_t pos = motion;
  for (int i = 0; i < 103; ++i) pos = text.find('\n', pos) + 1;  // MOTION, Frames, Time, 100 frames
  msg = bvh_error_of(text.substr(0, pos));
  EXPECT_NE(msg.find("MOTION announces 2752 frames but the file ends after 100"), std::string::npos)
      << msg;
  // Cut inside a frame.
  msg = bvh_error_of(text.substr(0, pos + 40));
  EXPECT_NE(msg.find("line 288: frame 100 has"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 96"), std::string::npos) << msg;
  // A bad channel and a non-number.
  std::string bad = text;
  bad.replace(bad.find("Zrotation Yrotation Xrotation"), 9, "Qrotation");
  msg = bvh_error_of(bad);
  EXPECT_NE(msg.find("unknown channel 'Qrotation'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 5"), std::string::npos) << msg;
  bad = text;
  bad.replace(bad.find("OFFSET 0 0 0"), 12, "OFFSET 0 x 0");
  msg = bvh_error_of(bad);
  EXPECT_NE(msg.find("must be a number, found 'x'"), std::string::npos) << msg;
  EXPECT_NE(bvh_error_of("HIERARCHY\nROOT Hips\n{\n"), "");
  EXPECT_NE(bvh_error_of(""), "");
}

TEST(IoLimits, QuotedExcerptEscapesBytesThatAreNotTextAndCutsLongOnes) {
  using io_limits::quoted_excerpt;
  EXPECT_EQ(quoted_excerpt("Hips"), "'Hips'");
  EXPECT_EQ(quoted_excerpt(""), "''");
  EXPECT_EQ(quoted_excerpt(std::string("a\0b\x7f\n", 5)), "'a\\x00b\\x7F\\x0A'");
  EXPECT_EQ(quoted_excerpt("T\xC3\xA4nzer \xE2\x82\xAC"), "'T\xC3\xA4nzer \xE2\x82\xAC'");
  // Lone continuation bytes, a lead byte cut by the end of the text, bytes UTF-8 never uses.
  EXPECT_EQ(quoted_excerpt("\x80x\xC3"), "'\\x80x\\xC3'");
  EXPECT_EQ(quoted_excerpt("\xE2\x82"), "'\\xE2\\x82'");
  EXPECT_EQ(quoted_excerpt("\xC0\xAF\xF8\xFF"), "'\\xC0\\xAF\\xF8\\xFF'");
  EXPECT_EQ(quoted_excerpt(std::string(100, 'x'), 4), "'xxxx'... (100 bytes)");
  // A character that starts before the cut is shown whole.
  EXPECT_EQ(quoted_excerpt("ab\xC3\xA4" "cd", 3), "'ab\xC3\xA4'... (6 bytes)");
}

TEST(Bvh, CorruptBytesAreShownEscapedAndCutInMessages) {
  // A binary token where a keyword belongs: the message shows at most 40 bytes of it, the bytes
  // that are not printable text as \xNN, and names the token's length.
  std::string junk(5000, '\x01');
  for (size_t i = 0; i < junk.size(); i += 3) junk[i] = static_cast<char>(0x80 + i % 64);
  std::string msg = bvh_error_of("HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\nCHANNELS 0\n" + junk + "\n}\n");
  EXPECT_NE(msg.find("cut.bvh: line 6: expected JOINT, End Site or '}' in 'r', found '\\x80\\x01"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("... (5000 bytes)"), std::string::npos) << msg;
  EXPECT_LT(msg.size(), 400u) << msg;
  for (unsigned char c : msg) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << msg;
  // Valid UTF-8 names are shown as they are.
  msg = bvh_error_of("HIERARCHY\nROOT T\xC3\xA4nzer\n{\nOFFSET 0 0 0\nCHANNELS 1 Wrotation\n");
  EXPECT_NE(msg.find("unknown channel 'Wrotation'"), std::string::npos) << msg;
  msg = bvh_error_of("HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\nCHANNELS 0\nJOINT T\xC3\xA4nzer\n{\nOFFSET 0 \xFF 0\n");
  EXPECT_NE(msg.find("OFFSET value must be a number, found '\\xFF'"), std::string::npos) << msg;
  EXPECT_EQ(parse_bvh("HIERARCHY\nROOT T\xC3\xA4nzer\n{\nOFFSET 0 0 0\nCHANNELS 1 Zrotation\n}\n"
                      "MOTION\nFrames: 1\nFrame Time: 0.04\n5\n",
                      "ok.bvh")
                .joints[0]
                .name,
            "T\xC3\xA4nzer");
}

namespace {

// A BVH with `children` sibling joints under the root (each `channels_each` rotation channels)
// and the given MOTION section.
std::string flat_bvh(int children, int channels_each, const std::string& motion) {
  std::string channels = "CHANNELS " + std::to_string(channels_each);
  const char* names[] = {" Zrotation", " Xrotation", " Yrotation"};
  for (int c = 0; c < channels_each; ++c) channels += names[c % 3];
  std::string text = "HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\n" + channels + "\n";
  for (int i = 0; i < children; ++i) {
    text += "JOINT j" + std::to_string(i) + "\n{\nOFFSET 0 1 0\n" + channels + "\n}\n";
  }
  return text + "}\n" + motion;
}

}  // namespace

TEST(Bvh, HierarchyLimitsAreFormatErrorsNotCrashes) {
  // 100,000 nested JOINTs: the recursive parser crashed with a stack overflow (signal 11).
  std::string deep = "HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\nCHANNELS 0\n";
  for (int i = 0; i < 100000; ++i) {
    deep += "JOINT j" + std::to_string(i) + " {\nOFFSET 0 1 0\nCHANNELS 0\n";
  }
  std::string msg = bvh_error_of(deep);
  EXPECT_NE(msg.find("cut.bvh: line "), std::string::npos) << msg;
  EXPECT_NE(msg.find("nested deeper than 256 levels"), std::string::npos) << msg;
  // 255 levels below the root still parse.
  std::string ok = "HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\nCHANNELS 1 Zrotation\n";
  for (int i = 0; i < 255; ++i) {
    ok += "JOINT j" + std::to_string(i) + "\n{\nOFFSET 0 1 0\nCHANNELS 0\n";
  }
  for (int i = 0; i < 256; ++i) ok += "}\n";
  const Bvh parsed = parse_bvh(ok + "MOTION\nFrames: 1\nFrame Time: 0.04\n5\n", "ok.bvh");
  EXPECT_EQ(parsed.joints.size(), 256u);
  // More joints than momu reads.
  msg = bvh_error_of(flat_bvh(5000, 0, "MOTION\nFrames: 0\nFrame Time: 0.04\n"));
  EXPECT_NE(msg.find("more than 4096 joints"), std::string::npos) << msg;
  // A bad channel count.
  msg = bvh_error_of("HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\nCHANNELS 1000000000\n");
  EXPECT_NE(msg.find("channel count must be 0..6"), std::string::npos) << msg;
}

TEST(Bvh, FrameCountsAreCheckedBeforeTheTableIsAllocated) {
  // 10^12 frames (LibTorch's "can't allocate memory" before).
  std::string msg =
      bvh_error_of(flat_bvh(1, 3, "MOTION\nFrames: 1000000000000\nFrame Time: 0.04\n0 0 0 0 0 0\n"));
  EXPECT_NE(msg.find("cut.bvh: line "), std::string::npos) << msg;
  EXPECT_NE(msg.find("Frames: 1000000000000 is more than momu reads"), std::string::npos) << msg;
  // A count under the maximum that the file cannot hold: 1,999,999 frames of 12,006 values
  // (192 GB of float64) announced by a file of 150 kB. The table is never allocated for more than
  // the bytes can hold, and the error says where the file ends.
  std::string row = "0";
  for (int c = 1; c < 12006; ++c) row += " 0";
  row += "\n";
  msg = bvh_error_of(flat_bvh(4001, 3, "MOTION\nFrames: 1999999\nFrame Time: 0.005\n" + row + row));
  EXPECT_NE(msg.find("MOTION announces 1999999 frames but the file ends after 2"),
            std::string::npos)
      << msg;
  // Frame rates momu does not read (the motion would be resampled into billions of frames).
  msg = bvh_error_of(flat_bvh(1, 3, "MOTION\nFrames: 1\nFrame Time: 1000000\n0 0 0 0 0 0\n"));
  EXPECT_NE(msg.find("frames per second; momu reads 1 to 1000"), std::string::npos) << msg;
  msg = bvh_error_of(flat_bvh(1, 3, "MOTION\nFrames: 1\nFrame Time: 1e-9\n0 0 0 0 0 0\n"));
  EXPECT_NE(msg.find("frames per second; momu reads 1 to 1000"), std::string::npos) << msg;
  // Longer than 3 hours.
  msg = bvh_error_of(flat_bvh(1, 3, "MOTION\nFrames: 1000000\nFrame Time: 0.5\n0 0 0 0 0 0\n"));
  EXPECT_NE(msg.find("longer than momu reads"), std::string::npos) << msg;
}

TEST(Bvh, ExportNeedsATreeAnd3D) {
  Motion m;
  m.skeleton = generic_skeleton(4, 3);
  m.joints = torch::randn({3, 4, 3});
  EXPECT_THROW(bvh_from_motion(m), ConfigError);
  m.skeleton = coco17_skeleton();
  m.joints = torch::randn({3, 17, 2});
  EXPECT_THROW(bvh_from_motion(m), ConfigError);
}

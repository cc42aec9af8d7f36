#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "momu/core/error.h"
#include "momu/io/atomic_file.h"
#include "momu/io/motion_file.h"
#include "momu/io/motion_json.h"
#include "test_util.h"

using namespace momu;

namespace {
Motion random_motion(const Skeleton& s, int64_t T) {
  Motion m;
  m.skeleton = s;
  m.fps = 30;
  m.joints = torch::randn({T, s.num_joints(), s.dim}) * 50;
  return m;
}
}  // namespace

TEST(MotionJson, RoundTripIsBitExact) {
  test::TempDir tmp;
  Motion m = random_motion(dance_with_melody_skeleton(), 40);
  m.joints[0][0][0] = 1e-30f;
  m.joints[1][0][0] = -0.0f;
  save_motion(tmp.path() / "m.json", m);
  const auto j = nlohmann::json::parse(read_file_bytes(tmp.path() / "m.json"));
  EXPECT_EQ(j["format"], "momu-motion");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["skeleton"], "dwm23");  // a built-in skeleton is named
  Motion back = load_motion(tmp.path() / "m.json");
  EXPECT_TRUE(torch::equal(back.joints, m.joints));
  EXPECT_EQ(back.fps, 30.0);
  EXPECT_EQ(back.skeleton, m.skeleton);
}

TEST(MotionJson, CustomSkeletonAndConfidenceAreStored) {
  test::TempDir tmp;
  Skeleton s = coco17_skeleton();
  s.name = "my_keypoints";
  s.units = "";
  Motion m = random_motion(s, 6);
  m.confidence = torch::rand({6, 17});
  save_motion(tmp.path() / "m.json", m);
  const auto j = nlohmann::json::parse(read_file_bytes(tmp.path() / "m.json"));
  EXPECT_TRUE(j["skeleton"].is_object());
  Motion back = load_motion(tmp.path() / "m.json");
  EXPECT_EQ(back.skeleton, s);
  EXPECT_TRUE(torch::equal(back.confidence, m.confidence));
}

TEST(MotionJson, ErrorsNameTheFileAndTheProblem) {
  test::TempDir tmp;
  const std::string text = motion_json_string(random_motion(smpl24_skeleton(), 3));
  auto expect_error = [&](const std::string& content, const std::string& needle) {
    const auto p = tmp.path() / "bad.json";
    std::ofstream(p, std::ios::trunc) << content;
    try {
      load_motion(p);
      ADD_FAILURE() << "no exception for " << needle;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(text.substr(0, text.size() / 2), "not valid JSON");
  auto j = nlohmann::json::parse(text);
  j["joints"][1].erase(5);
  expect_error(j.dump(), "frame 1 has 23 joints, expected 24");
  j = nlohmann::json::parse(text);
  j["version"] = 2;
  expect_error(j.dump(), "version");
  j = nlohmann::json::parse(text);
  j["extra"] = 1;
  expect_error(j.dump(), "unknown field 'extra'");
  j = nlohmann::json::parse(text);
  j["skeleton"] = "nope";
  expect_error(j.dump(), "unknown skeleton 'nope'");
  j = nlohmann::json::parse(text);
  j["joints"][2][3][1] = nullptr;
  expect_error(j.dump(), "frame 2, joint 3");
  expect_error(R"({"something": "else"})", "neither a momu motion");
  j = nlohmann::json::parse(text);
  j["fps"] = 0;
  try {
    std::ofstream(tmp.path() / "fps.json") << j.dump();
    load_motion(tmp.path() / "fps.json");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("fps.json"), std::string::npos) << e.what();
  }
}

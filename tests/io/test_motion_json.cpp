#include <torch/torch.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/json_file.h"
#include "io/motion_json.h"
#include "momu/core/error.h"
#include "momu/io/motion_file.h"
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
  // A frame rate in the file is content: out of range is a FormatError (exit 4), not ConfigError.
  for (double fps : {0.0, -25.0, 1e-6, 1e9}) {
    j = nlohmann::json::parse(text);
    j["fps"] = fps;
    expect_error(j.dump(), "'fps'");
  }
}

TEST(MotionJson, LimitsAndJsonErrorsAreFormatErrorsNamingTheFile) {
  test::TempDir tmp;
  const std::string text = motion_json_string(random_motion(smpl24_skeleton(), 3));
  const auto p = tmp.path() / "m.json";
  auto error_of = [&](const std::string& content, const std::function<void()>& read) {
    std::ofstream(p, std::ios::trunc) << content;
    try {
      read();
    } catch (const FormatError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::function<void()> via_load = [&] { load_motion(p); };
  const std::function<void()> via_reader = [&] { read_motion_json(p); };
  const std::function<void()> via_json = [&] { read_json_file(p); };
  // A number past double (nlohmann's out_of_range, exit 1 before) through every JSON reader.
  std::string huge = text;
  const size_t fps_at = huge.find("\"fps\": ");
  huge.replace(fps_at, huge.find(',', fps_at) - fps_at, "\"fps\": 1e999");
  for (const auto& read : {via_load, via_reader, via_json}) {
    const std::string msg = error_of(huge, read);
    EXPECT_NE(msg.find("m.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
  }
  // A custom skeleton with fields of the wrong JSON type.
  auto j = nlohmann::json::parse(text);
  j["skeleton"] = {{"name", "x"}, {"joint_names", {1, 2}}, {"dim", 3}};
  std::string msg = error_of(j.dump(), via_load);
  EXPECT_NE(msg.find("m.json: bad 'skeleton'"), std::string::npos) << msg;
  // More frames than momu reads at this frame rate (3 h), refused before the table is allocated.
  j = nlohmann::json::parse(text);
  j["fps"] = 1;
  auto frames = nlohmann::json::array();
  for (int t = 0; t < 10801; ++t) frames.push_back(nlohmann::json::array());
  j["joints"] = frames;
  msg = error_of(j.dump(), via_load);
  EXPECT_NE(msg.find("longer than momu reads"), std::string::npos) << msg;
  // Frames of the wrong size are found before allocating (10^5 empty frames).
  j = nlohmann::json::parse(text);
  frames = nlohmann::json::array();
  for (int t = 0; t < 100000; ++t) frames.push_back(nlohmann::json::array());
  j["joints"] = frames;
  msg = error_of(j.dump(), via_load);
  EXPECT_NE(msg.find("frame 0 has 0 joints, expected 24"), std::string::npos) << msg;
}

#include <torch/torch.h>

#include <chrono>
#include <fstream>

#include "core/atomic_file.h"
#include "golden_util.h"
#include "io/dance_with_melody.h"
#include "io/npy.h"
#include "momu/core/error.h"
#include "momu/io/motion_file.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

// A tiny dance folder: T frames, the joint count of frame `short_frame` cut to 22.
fs::path write_folder(const fs::path& dir, int T, int short_frame = -1) {
  fs::create_directories(dir);
  nlohmann::json j;
  j["length"] = T;
  j["center"] = nlohmann::json::array();
  j["skeletons"] = nlohmann::json::array();
  for (int t = 0; t < T; ++t) {
    j["center"].push_back({100.0 + t, 95.0, 0.5});
    nlohmann::json frame = nlohmann::json::array();
    for (int k = 0; k < (t == short_frame ? 22 : 23); ++k)
      frame.push_back({k * 1.0, -k * 2.0, 0.25});
    j["skeletons"].push_back(frame);
  }
  std::ofstream(dir / "skeletons.json") << j.dump();
  std::ofstream(dir / "config.json") << R"({"start_position": 10, "end_position": 20})";
  return dir;
}

std::string dwm_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DanceWithMelody, ReadsAFolder) {
  test::TempDir tmp;
  const auto dir = write_folder(tmp.path() / "DANCE_X_1", 5);
  DanceWithMelodyClip c = read_dance_with_melody(dir);
  EXPECT_EQ(c.name, "DANCE_X_1");
  EXPECT_EQ(c.start_position, 10);
  EXPECT_EQ(c.end_position, 20);
  EXPECT_EQ(c.motion.fps, 25.0);
  EXPECT_EQ(c.motion.skeleton.name, "dwm23");
  ASSERT_EQ(c.motion.joints.sizes(), (std::vector<int64_t>{5, 23, 3}));
  EXPECT_FLOAT_EQ(c.motion.joints[3][4][0].item<float>(), 103.0f + 4.0f);
  EXPECT_FLOAT_EQ(c.motion.joints[3][4][1].item<float>(), 95.0f - 8.0f);
  EXPECT_FLOAT_EQ(c.center[3][0].item<float>(), 103.0f);
  // load_motion takes the folder and the bare skeletons.json.
  EXPECT_TRUE(torch::equal(load_motion(dir).joints, c.motion.joints));
  EXPECT_TRUE(torch::equal(load_motion(dir / "skeletons.json").joints, c.motion.joints));
}

TEST(DanceWithMelody, ErrorsNameTheFileAndTheProblem) {
  test::TempDir tmp;
  const auto dir = write_folder(tmp.path() / "short", 4, 2);
  std::string msg = dwm_error_of([&] { read_dance_with_melody(dir); });
  EXPECT_NE(msg.find("skeletons.json: frame 2 has 22 joints, expected 23"), std::string::npos)
      << msg;
  // Truncated JSON.
  const auto cut = write_folder(tmp.path() / "cut", 4);
  const std::string bytes = read_file_bytes(cut / "skeletons.json");
  std::ofstream(cut / "skeletons.json", std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  msg = dwm_error_of([&] { read_dance_with_melody(cut); });
  EXPECT_NE(msg.find("skeletons.json: not valid JSON"), std::string::npos) << msg;
  EXPECT_THROW(read_dance_with_melody(cut), FormatError);
  // Length disagrees with the frames.
  const auto len = write_folder(tmp.path() / "len", 3);
  auto j = nlohmann::json::parse(read_file_bytes(len / "skeletons.json"));
  j["length"] = 4;
  std::ofstream(len / "skeletons.json", std::ios::trunc) << j.dump();
  msg = dwm_error_of([&] { read_dance_with_melody(len); });
  EXPECT_NE(msg.find("'length' is 4 but 'skeletons' has 3 frames"), std::string::npos) << msg;
  // A coordinate that is not a number, a missing config.json.
  const auto bad = write_folder(tmp.path() / "bad", 3);
  j = nlohmann::json::parse(read_file_bytes(bad / "skeletons.json"));
  j["skeletons"][1][7][2] = "x";
  std::ofstream(bad / "skeletons.json", std::ios::trunc) << j.dump();
  msg = dwm_error_of([&] { read_dance_with_melody(bad); });
  EXPECT_NE(msg.find("frame 1, joint 7"), std::string::npos) << msg;
  const auto noconf = write_folder(tmp.path() / "noconf", 3);
  fs::remove(noconf / "config.json");
  EXPECT_THROW(read_dance_with_melody(noconf), IoError);
  EXPECT_THROW(read_dance_with_melody(tmp.path() / "missing"), IoError);
}

TEST(DanceWithMelody, RealFoldersMatchTheGoldenNpy) {
  MOMU_REQUIRE_DIR(test::dwm_dir());
  MOMU_REQUIRE_GOLDEN();
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    DanceWithMelodyClip c = read_dance_with_melody(test::dwm_dir() / clip);
    const auto g = test::golden_clip_json(clip)["source"];
    EXPECT_EQ(c.start_position, g["start_position"].get<int64_t>());
    EXPECT_EQ(c.end_position, g["end_position"].get<int64_t>());
    EXPECT_EQ(c.motion.num_frames(), g["length"].get<int64_t>());
    auto golden = read_npy(test::golden_dir() / (clip + "_motion.npy")).data;
    // The golden npy is the first 750 frames of skeletons + center (float64 sum, then float32).
    EXPECT_TRUE(torch::equal(c.motion.joints.narrow(0, 0, 750), golden));
  }
}

TEST(DanceWithMelody, ParsesEveryDanceQuickly) {
  MOMU_REQUIRE_DIR(test::dwm_dir());
  double worst_s = 0, total_s = 0;
  std::string worst;
  uintmax_t worst_bytes = 0;
  int n = 0;
  for (const auto& entry : fs::directory_iterator(test::dwm_dir())) {
    if (!fs::exists(entry.path() / "skeletons.json")) continue;
    const auto t0 = std::chrono::steady_clock::now();
    DanceWithMelodyClip c = read_dance_with_melody(entry.path());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_NO_THROW(c.motion.validate());
    total_s += s;
    ++n;
    const auto bytes = fs::file_size(entry.path() / "skeletons.json");
    if (bytes > worst_bytes) {
      worst_bytes = bytes;
      worst_s = s;
      worst = entry.path().filename().string();
    }
  }
  EXPECT_EQ(n, 37);
  RecordProperty("largest", worst);
  RecordProperty("largest_bytes", std::to_string(worst_bytes));
  RecordProperty("largest_parse_ms", std::to_string(worst_s * 1000));
  RecordProperty("total_parse_ms", std::to_string(total_s * 1000));
  std::cout << "[ timing ] " << n << " dances in " << total_s * 1000 << " ms; largest " << worst
            << " (" << worst_bytes << " bytes) in " << worst_s * 1000 << " ms\n";
  EXPECT_LT(worst_s, 1.0);
}

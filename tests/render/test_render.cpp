// Stick-figure rendering: frame drawing, camera framing, video files (ffmpeg), errors, the CLI.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/dance_with_melody.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "render/render_video.h"
#include "render/stick_figure.h"
#include "test_util.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

// Stream and format facts of a media file, from ffprobe.
nlohmann::json probe(const fs::path& file) {
  const std::string cmd =
      "ffprobe -v error -show_entries "
      "format=duration:stream=codec_type,codec_name,width,height,duration,nb_frames,pix_fmt "
      "-of json '" +
      file.string() + "'";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (pipe && (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  if (pipe) ::pclose(pipe);
  return nlohmann::json::parse(out);
}

const nlohmann::json* stream_of(const nlohmann::json& info, const std::string& type) {
  for (const auto& s : info["streams"]) {
    if (s["codec_type"] == type) return &s;
  }
  return nullptr;
}

double as_double(const nlohmann::json& v) { return std::stod(v.get<std::string>()); }

// A 7-point figure in metres, y up, facing +z: its left hand at +x.
Skeleton tpose_skeleton() {
  Skeleton s;
  s.name = "tpose7";
  s.joint_names = {"pelvis", "neck", "head", "left_hand", "right_hand", "left_foot", "right_foot"};
  s.parents = {-1, 0, 1, 1, 1, 0, 0};
  s.bones = {{0, 1}, {1, 2}, {1, 3}, {1, 4}, {0, 5}, {0, 6}};
  s.dim = 3;
  s.root = 0;
  s.foot_joints = {5, 6};
  s.units = "m";
  return s;
}

const float kTpose[7][3] = {{0, 1, 0},        {0, 1.5f, 0}, {0, 1.75f, 0}, {0.8f, 1.5f, 0},
                            {-0.8f, 1.5f, 0}, {0.2f, 0, 0}, {-0.2f, 0, 0}};

// T frames of the T-pose, moved by `travel` (metres per frame along x and -z) and turning.
Motion tpose_motion(int frames, double fps, float travel = 0.0f, float turn_rad = 0.0f) {
  Motion m;
  m.skeleton = tpose_skeleton();
  m.fps = fps;
  m.joints = torch::zeros({frames, 7, 3});
  auto a = m.joints.accessor<float, 3>();
  for (int t = 0; t < frames; ++t) {
    const float c = std::cos(turn_rad * t), s = std::sin(turn_rad * t);
    for (int j = 0; j < 7; ++j) {
      a[t][j][0] = c * kTpose[j][0] + s * kTpose[j][2] + travel * t;
      a[t][j][1] = kTpose[j][1];
      a[t][j][2] = -s * kTpose[j][0] + c * kTpose[j][2] - 0.6f * travel * t;
    }
  }
  return m;
}

int colour_distance(Rgb a, Rgb b) {
  return std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b);
}

Rgb pixel_at(const RgbImage& img, const std::array<double, 2>& p) {
  return img.at(static_cast<int>(std::floor(p[0])), static_cast<int>(std::floor(p[1])));
}

// Every visible point of every frame lies inside the picture.
void expect_all_inside(const StickFigureRenderer& r, int points, const std::string& what) {
  const auto& c = r.config();
  for (int64_t k = 0; k < r.num_frames(); ++k) {
    for (int p = 0; p < points; ++p) {
      if (!r.visible(k, p)) continue;
      const auto q = r.project(k, p);
      ASSERT_TRUE(q[0] >= 0 && q[0] <= c.width && q[1] >= 0 && q[1] <= c.height)
          << what << ": frame " << k << " point " << p << " at (" << q[0] << ", " << q[1] << ")";
    }
  }
}

}  // namespace

TEST(RenderConfig, JsonRoundTripAndValidation) {
  RenderConfig c;
  c.width = 320;
  c.projection = Projection::kOrthographic;
  c.framing = Framing::kFollow;
  c.left = Rgb{1, 2, 255};
  nlohmann::json j = c;
  EXPECT_EQ(j["left"], "#0102ff");
  RenderConfig back = j.get<RenderConfig>();
  EXPECT_EQ(nlohmann::json(back), j);

  j["widht"] = 10;  // typo
  EXPECT_THROW(j.get<RenderConfig>(), ConfigError);
  RenderConfig odd;
  odd.width = 641;
  EXPECT_THROW(odd.validate(), ConfigError);
  RenderConfig steep;
  steep.elevation_deg = 90;
  EXPECT_THROW(steep.validate(), ConfigError);
  EXPECT_THROW(rgb_from_hex("red"), ConfigError);
  EXPECT_EQ(RenderConfig{}.video_fps(60.0), 30.0);
  EXPECT_EQ(RenderConfig{}.video_fps(25.0), 25.0);
}

TEST(StickFigure, BonesAreDrawnWhereTheyProjectAndBackgroundElsewhere) {
  RenderConfig c;
  c.elevation_deg = 0.0;
  c.projection = Projection::kOrthographic;
  c.draw_floor = false;
  StickFigureRenderer r(tpose_motion(5, 25.0), c);
  EXPECT_EQ(r.num_frames(), 5);
  const RgbImage img = r.render(2);
  ASSERT_EQ(img.width, 640);
  ASSERT_EQ(img.height, 480);

  // Head up, the figure's left hand on the right of the picture (we face it).
  const auto head = r.project(2, 2), pelvis = r.project(2, 0);
  const auto lhand = r.project(2, 3), rhand = r.project(2, 4), neck = r.project(2, 1);
  EXPECT_LT(head[1], pelvis[1]);
  EXPECT_GT(lhand[0], rhand[0]);

  EXPECT_NE(pixel_at(img, neck), c.background);
  EXPECT_NE(pixel_at(img, pelvis), c.background);
  // Mid-arm pixels carry the side colours.
  const std::array<double, 2> mid_left{0.5 * (neck[0] + lhand[0]), 0.5 * (neck[1] + lhand[1])};
  const std::array<double, 2> mid_right{0.5 * (neck[0] + rhand[0]), 0.5 * (neck[1] + rhand[1])};
  EXPECT_LT(colour_distance(pixel_at(img, mid_left), c.left), 30);
  EXPECT_LT(colour_distance(pixel_at(img, mid_right), c.right), 30);
  // Corners and the space between an arm and a leg are background.
  EXPECT_EQ(img.at(0, 0), c.background);
  EXPECT_EQ(img.at(img.width - 1, 0), c.background);
  EXPECT_EQ(img.at(img.width - 1, img.height - 1), c.background);
  const std::array<double, 2> gap{0.5 * (pelvis[0] + lhand[0]),
                                  0.5 * (pelvis[1] + r.project(2, 5)[1])};
  EXPECT_EQ(pixel_at(img, gap), c.background);

  // Framing: the figure spans the frame's usable height (the larger extent here).
  EXPECT_NEAR(pelvis[1] - head[1] + (r.project(2, 5)[1] - pelvis[1]), 480 * (1 - 2 * c.margin),
              1.0);
}

TEST(StickFigure, FloorGridIsDrawnBelowThe3dFigure) {
  // Seen from above, the grid in front of the figure lies below its feet in the picture.
  auto pixels_below_feet = [](bool floor) {
    RenderConfig c;
    c.elevation_deg = 25.0;
    c.draw_floor = floor;
    c.draw_time = false;
    StickFigureRenderer r(tpose_motion(3, 25.0), c);
    const RgbImage img = r.render(0);
    const int below = static_cast<int>(std::max(r.project(0, 5)[1], r.project(0, 6)[1])) + 8;
    int n = 0;
    for (int y = below; y < img.height; ++y) {
      for (int x = 0; x < img.width; ++x) n += img.at(x, y) != c.background;
    }
    return n;
  };
  EXPECT_GT(pixels_below_feet(true), 300);
  EXPECT_EQ(pixels_below_feet(false), 0);
}

TEST(StickFigure, CameraKeepsEveryJointInsideTheFrame) {
  // Travels 4 m along x and 2.4 m along -z while turning.
  const Motion m = tpose_motion(100, 50.0, 0.04f, 0.05f);
  for (auto framing : {Framing::kClip, Framing::kFollow}) {
    for (auto projection : {Projection::kPerspective, Projection::kOrthographic}) {
      for (double azimuth : {0.0, 60.0, -135.0}) {
        RenderConfig c;
        c.framing = framing;
        c.projection = projection;
        c.azimuth_deg = azimuth;
        c.elevation_deg = 20.0;
        StickFigureRenderer r(m, c);
        EXPECT_EQ(r.num_frames(), 60);  // 50 fps capped at 30: 2 s
        expect_all_inside(r, 7, "azimuth " + std::to_string(azimuth));
      }
    }
  }
  // Following keeps the figure larger than framing the whole path.
  RenderConfig clip, follow;
  follow.framing = Framing::kFollow;
  StickFigureRenderer rc(m, clip), rf(m, follow);
  auto height = [](const StickFigureRenderer& r) {
    return r.project(30, 6)[1] - r.project(30, 2)[1];
  };
  EXPECT_GT(height(rf), 1.5 * height(rc));
}

TEST(StickFigure, RealDanceStaysInsideTheFrame) {
  const auto folder = test::dwm_dir() / "DANCE_W_4";  // travels about 7 m
  MOMU_REQUIRE_DIR(folder);
  const Motion m = read_dance_with_melody(folder).motion;
  for (auto framing : {Framing::kClip, Framing::kFollow}) {
    RenderConfig c;
    c.framing = framing;
    StickFigureRenderer r(m, c);
    expect_all_inside(r, m.skeleton.num_points(), "DANCE_W_4");
  }
}

TEST(StickFigure, KeypointsAreDrawnInImageCoordinatesWithoutDropouts) {
  // COCO-17 in pixels (y down): head at y 100, ankles at y 400; joint 9 drops out at (0, 0).
  Motion m;
  m.skeleton = coco17_skeleton();
  m.fps = 25.0;
  m.joints = torch::zeros({4, 17, 2});
  m.confidence = torch::ones({4, 17});
  auto a = m.joints.accessor<float, 3>();
  const float ys[17] = {100, 95,  95,  100, 100, 150, 150, 220, 220,
                        280, 280, 270, 270, 340, 340, 400, 400};
  const float xs[17] = {500, 505, 495, 515, 485, 540, 460, 550, 450,
                        555, 445, 525, 475, 525, 475, 525, 475};
  for (int t = 0; t < 4; ++t) {
    for (int j = 0; j < 17; ++j) {
      a[t][j][0] = xs[j];
      a[t][j][1] = ys[j];
    }
  }
  m.joints[1][9] = 0.0f;
  m.confidence[1][9] = 0.0f;
  RenderConfig c;
  StickFigureRenderer r(m, c);
  EXPECT_FALSE(r.visible(1, 9));
  EXPECT_TRUE(r.visible(0, 9));
  expect_all_inside(r, m.skeleton.num_points(), "coco17");
  const auto nose = r.project(0, 0), ankle = r.project(0, 15);
  EXPECT_LT(nose[1], ankle[1]);
  // Eyes (y 95) to ankles (y 400) fill the usable height: the dropout at (0, 0) is not framed.
  EXPECT_NEAR(ankle[1] - r.project(0, 1)[1], 480 * (1 - 2 * c.margin), 1.0);
  // The figure's left (image right, x 525) stays on the picture's right.
  EXPECT_GT(r.project(0, 15)[0], r.project(0, 16)[0]);
  const RgbImage img = r.render(1);
  EXPECT_NE(pixel_at(img, nose), c.background);
  EXPECT_EQ(img.at(0, 0), c.background);
}

TEST(StickFigure, RejectsBadMotions) {
  RenderConfig c;
  auto build = [&](const Motion& m) { StickFigureRenderer r(m, c); };
  Motion with_nan = tpose_motion(5, 25.0);
  with_nan.joints[3][2][1] = NAN;
  EXPECT_THROW(build(with_nan), FormatError);
  Motion empty = tpose_motion(5, 25.0);
  empty.joints = torch::zeros({0, 7, 3});
  EXPECT_THROW(build(empty), ShapeError);
  Motion generic;
  generic.skeleton = generic_skeleton(9, 3);
  generic.joints = torch::zeros({5, 9, 3});
  try {
    StickFigureRenderer r(generic, c);
    FAIL() << "a skeleton without bones was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--skeleton"), std::string::npos) << e.what();
  }
}

TEST(RenderVideo, DanceWithMelodyClipWithItsMusic) {
  MOMU_REQUIRE_FFMPEG();
  const auto folder = test::dwm_dir() / "DANCE_C_2";
  MOMU_REQUIRE_DIR(folder);
  const DanceWithMelodyClip clip = read_dance_with_melody(folder);
  Motion m = clip.motion;
  m.joints = m.joints.narrow(0, 0, 75).contiguous();  // 3 s at 25 fps
  RenderConfig c;
  c.audio_offset_s = clip.start_position / 25.0;
  test::TempDir tmp;
  const fs::path out = tmp.path() / "c2.mp4";
  int64_t last_done = 0;
  const RenderSummary s =
      render_video(m, out, c, folder / "audio.mp3", [&](const Progress& p) { last_done = p.done; });
  EXPECT_EQ(s.frames, 75);
  EXPECT_EQ(last_done, 75);
  ASSERT_TRUE(fs::is_regular_file(out));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1)
      << "a temporary file was left behind";

  const auto info = probe(out);
  EXPECT_NEAR(as_double(info["format"]["duration"]), 3.0, 0.1) << info.dump();
  const auto* video = stream_of(info, "video");
  const auto* audio = stream_of(info, "audio");
  ASSERT_NE(video, nullptr) << info.dump();
  ASSERT_NE(audio, nullptr) << info.dump();
  EXPECT_EQ((*video)["codec_name"], "h264");
  EXPECT_EQ((*video)["pix_fmt"], "yuv420p");
  EXPECT_EQ((*video)["width"], 640);
  EXPECT_EQ((*video)["height"], 480);
  EXPECT_EQ((*video)["nb_frames"], "75");
  EXPECT_NEAR(as_double((*video)["duration"]), 3.0, 1.0 / 25 + 1e-6);
  EXPECT_EQ((*audio)["codec_name"], "aac");
  EXPECT_NEAR(as_double((*audio)["duration"]), 3.0, 0.1);
}

TEST(RenderVideo, ShortMusicIsPaddedAndTheVideoKeepsTheMotionLength) {
  MOMU_REQUIRE_FFMPEG();
  test::TempDir tmp;
  Audio tone;
  tone.sample_rate_hz = 22050;
  tone.samples = 0.3 * torch::sin(torch::arange(22050) * (2 * M_PI * 440 / 22050));  // 1 s
  write_wav(tmp.path() / "tone.wav", tone);
  RenderConfig c;
  c.width = 160;
  c.height = 120;
  const fs::path out = tmp.path() / "v.mkv";
  render_video(tpose_motion(60, 30.0, 0.01f), out, c, tmp.path() / "tone.wav");
  const auto info = probe(out);
  EXPECT_NEAR(as_double(info["format"]["duration"]), 2.0, 0.1) << info.dump();
  ASSERT_NE(stream_of(info, "audio"), nullptr);
  // Without music: video only.
  render_video(tpose_motion(60, 30.0), tmp.path() / "silent.mp4", c);
  const auto silent = probe(tmp.path() / "silent.mp4");
  EXPECT_EQ(stream_of(silent, "audio"), nullptr);
  EXPECT_NEAR(as_double(silent["format"]["duration"]), 2.0, 0.05);
}

TEST(RenderVideo, FailuresLeaveNoFileBehind) {
  test::TempDir tmp;
  const fs::path out = tmp.path() / "v.mp4";
  RenderConfig c;
  c.width = 160;
  c.height = 120;
  auto nothing_written = [&] {
    return std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()) == 0;
  };

  Motion with_nan = tpose_motion(10, 25.0);
  with_nan.joints[4][1][0] = NAN;
  EXPECT_THROW(render_video(with_nan, out, c), FormatError);
  EXPECT_TRUE(nothing_written());

  try {
    render_video(tpose_motion(10, 25.0), out, c, tmp.path() / "missing.wav");
    FAIL() << "a missing music file was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.wav"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(nothing_written());

  EXPECT_THROW(render_video(tpose_motion(10, 25.0), tmp.path() / "v.gif", c), ConfigError);

  RenderConfig no_ffmpeg = c;
  no_ffmpeg.ffmpeg = "momu-test-no-such-ffmpeg";
  try {
    render_video(tpose_motion(10, 25.0), out, no_ffmpeg);
    FAIL() << "a missing ffmpeg was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/setup.sh"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(nothing_written());
}

TEST(RenderVideo, FfmpegErrorsNameTheFileAndKeepTheOldVideo) {
  MOMU_REQUIRE_FFMPEG();
  test::TempDir tmp;
  const fs::path out = tmp.path() / "v.mp4";
  { std::ofstream(out) << "old"; }
  { std::ofstream(tmp.path() / "noise.wav") << "this is not a WAV file"; }
  RenderConfig c;
  c.width = 160;
  c.height = 120;
  try {
    render_video(tpose_motion(10, 25.0), out, c, tmp.path() / "noise.wav");
    FAIL() << "an undecodable music file was accepted";
  } catch (const IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(out.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("ffmpeg failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("noise.wav"), std::string::npos) << msg;  // ffmpeg's own words
  }
  std::ifstream in(out);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 2);
}

TEST(RenderCli, WritesTheVideoAndMapsErrorsToExitCodes) {
  MOMU_REQUIRE_FFMPEG();
  test::TempDir tmp;
  const auto q = [](const fs::path& p) { return "'" + p.string() + "'"; };
  save_motion(tmp.path() / "m.json", tpose_motion(20, 25.0, 0.02f));
  auto r = test::run_momu("render -q --motion " + q(tmp.path() / "m.json") + " --out " +
                          q(tmp.path() / "v.mp4") + " --width 160 --height 120 --azimuth 30");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"], 20);
  EXPECT_EQ(j["config"]["azimuth_deg"], 30.0);
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "v.mp4"));

  r = test::run_momu("render -q --motion " + q(tmp.path() / "m.json") + " --music " +
                     q(tmp.path() / "none.wav") + " --out " + q(tmp.path() / "w.mp4"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("none.wav"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "w.mp4"));

  r = test::run_momu("render -q --motion " + q(tmp.path() / "m.json") + " --out " +
                     q(tmp.path() / "w.mp4") + " --width 161");
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

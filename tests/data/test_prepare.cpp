#include <torch/torch.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "core/atomic_file.h"
#include "data/dwm_alignment.h"
#include "data/mel_statistics.h"
#include "data/prepare.h"
#include "data/split.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "momu/motion/skeleton.h"
#include "test_util.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

// A click track at `bpm` and a dwm23 motion whose feet stamp on the clicks.
void write_pair(const fs::path& dir, const std::string& name, double seconds, double bpm,
                double motion_fps = 25.0, const std::string& motion_ext = ".npy") {
  const int sr = 22050;
  auto y = torch::zeros({static_cast<int64_t>(seconds * sr)});
  const double period = 60.0 / bpm;
  for (double t = 0.25; t < seconds; t += period) {
    const auto i = static_cast<int64_t>(t * sr);
    const int64_t n = std::min<int64_t>(400, y.size(0) - i);
    if (n > 0) y.narrow(0, i, n).copy_(torch::randn({n}) * 0.5 * torch::exp(-torch::arange(n) / 80.0));
  }
  write_wav(dir / (name + ".wav"), Audio{y, sr});
  Motion m;
  m.skeleton = skeleton_by_name("dwm23");
  m.fps = motion_fps;
  const auto frames = static_cast<int64_t>(seconds * motion_fps);
  auto t = torch::arange(frames, torch::kFloat64) / motion_fps;
  auto base = torch::randn({1, 23, 3}, torch::kFloat64) * 20 + 90;
  auto bounce = (torch::cos(2 * M_PI * t / period)).abs().reshape({frames, 1, 1}) * 5.0;
  m.joints = (base + bounce * torch::ones({1, 23, 3}, torch::kFloat64)).to(torch::kFloat32);
  save_motion(dir / (name + motion_ext), m);
}

}  // namespace

TEST(Split, CommittedDwmSplitIsByDanceAndStratified) {
  const auto split = DatasetSplit::load(test::source_dir() / "data/splits/dwm.json");
  ASSERT_EQ(split.splits.size(), 2u);
  const auto& train = split.splits.at("train");
  const auto& val = split.splits.at("validation");
  EXPECT_EQ(train.size() + val.size(), 37u);
  EXPECT_EQ(split.split_of("DANCE_C_6"), "validation");
  EXPECT_EQ(split.split_of("DANCE_C_2"), "train");
  EXPECT_EQ(split.split_of("NOPE"), "");
  for (char style : {'C', 'R', 'W'}) {
    int n = 0;
    for (const auto& v : val) n += v[6] == style;
    EXPECT_GE(n, 1) << "style " << style << " has no validation dance";
  }
  const auto dir = test::dwm_dir();
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_directory()) EXPECT_NE(split.split_of(e.path().filename()), "") << e.path();
    }
  }
}

TEST(Split, ClipInTwoSplitsIsAnError) {
  test::TempDir tmp;
  write_bytes_atomically(tmp.path() / "s.json", R"({"train": ["a", "b"], "validation": ["b"]})");
  EXPECT_THROW(DatasetSplit::load(tmp.path() / "s.json"), FormatError);
  write_bytes_atomically(tmp.path() / "t.json", R"({"train": ["a", )");
  EXPECT_THROW(DatasetSplit::load(tmp.path() / "t.json"), FormatError);
}

TEST(DwmAlignment, ReadsTheRealCorrections) {
  MOMU_REQUIRE_DIR(test::dwm_dir());
  const auto a = DwmAlignment::load(test::dwm_dir() / "alignment.json");
  EXPECT_NEAR(a.default_fps_effective, 24.70, 1e-9);
  const auto c2 = a.for_clip("DANCE_C_2");
  ASSERT_TRUE(c2.fps_effective.has_value());
  EXPECT_NEAR(*c2.fps_effective, 24.62, 1e-9);
  EXPECT_TRUE(c2.usable_for_beat_level);
  const auto c4 = a.for_clip("DANCE_C_4");
  EXPECT_FALSE(c4.usable_for_beat_level);
  EXPECT_FALSE(c4.fps_effective.has_value());
  int unusable = 0;
  for (const auto& [name, c] : a.clips) unusable += !c.usable_for_beat_level;
  EXPECT_EQ(unusable, 8);
}

TEST(Prepare, PairsLayoutAlignsMotionAndMusicFrameForFrame) {
  test::TempDir tmp;
  const fs::path in = tmp.path() / "in";
  fs::create_directories(in);
  write_pair(in, "a", 6.0, 120.0);
  write_pair(in, "b", 5.0, 100.0, 30.0, ".json");
  PairsLayoutOptions options;
  std::vector<std::string> warnings;
  auto sources = discover_pairs(in, options, [&](LogLevel, const std::string& m) { warnings.push_back(m); });
  ASSERT_EQ(sources.size(), 2u);
  PrepareConfig config;
  config.workers = 2;
  const auto summary = prepare_dataset(sources, tmp.path() / "out", config, {{"layout", "pairs"}});
  EXPECT_EQ(summary.clips, 2);
  auto ds = PreparedDataset::open(tmp.path() / "out");
  ASSERT_EQ(ds.clip_names().size(), 2u);
  const PreparedClip a = ds.load("a");
  EXPECT_EQ(a.num_frames(), static_cast<int64_t>(6.0 * 62.5));
  EXPECT_EQ(a.mel.size(0), 80);
  EXPECT_EQ(a.motion.sizes(), (std::vector<int64_t>{a.num_frames(), 23, 3}));
  EXPECT_EQ(a.q.size(0), a.num_frames());
  EXPECT_EQ(a.skeleton.name, "dwm23");
  EXPECT_NEAR(a.tempo_bpm, 120.0, 3.0);
  EXPECT_GE(a.onsets_s.size(), 8u);
  // The json motion of b ran at 30 fps: 5 s of it become 312 frames at 62.5 fps.
  const PreparedClip b = ds.load("b");
  EXPECT_EQ(b.num_frames(), 312);
  EXPECT_TRUE(fs::exists(tmp.path() / "out" / "stats.json"));
  EXPECT_TRUE(fs::exists(tmp.path() / "out" / "motion_stats.json"));
}

TEST(Prepare, UnmatchedNamesAreReportedAndEmptyLayoutsRejected) {
  test::TempDir tmp;
  write_pair(tmp.path(), "a", 3.0, 120.0);
  std::ofstream(tmp.path() / "lonely.wav") << "x";
  std::vector<std::string> warnings;
  auto sources = discover_pairs(tmp.path(), {}, [&](LogLevel, const std::string& m) { warnings.push_back(m); });
  EXPECT_EQ(sources.size(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("lonely.wav"), std::string::npos);
  test::TempDir empty;
  EXPECT_THROW(discover_pairs(empty.path(), {}), FormatError);
  EXPECT_THROW(discover_pairs(empty.path() / "missing", {}), IoError);
}

TEST(Prepare, CorruptAudioFailsNamingTheFileAndWritesNoIndex) {
  test::TempDir tmp;
  const fs::path in = tmp.path() / "in";
  fs::create_directories(in);
  write_pair(in, "a", 3.0, 120.0);
  write_pair(in, "b", 3.0, 120.0);
  std::ofstream(in / "b.wav", std::ios::trunc) << "RIFF garbage that is not a wave file";
  auto sources = discover_pairs(in, {});
  try {
    prepare_dataset(sources, tmp.path() / "out", {}, {});
    FAIL() << "no exception";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("b.wav"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "out" / "index.json"));
}

// A prepare killed while staging its clips leaves ".clips.tmp-<pid>-*" in the output folder; the
// next prepare into that folder removes it (its process is gone) and keeps a live writer's.
TEST(Prepare, StagedClipsOfAKilledPrepareAreRemovedByTheNextOne) {
  test::TempDir tmp;
  const fs::path in = tmp.path() / "in", out = tmp.path() / "out";
  fs::create_directories(in);
  write_pair(in, "a", 3.0, 120.0);
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ASSERT_GT(gone, 0);
  ::waitpid(gone, nullptr, 0);  // a process id that no longer runs
  const fs::path dead = out / (".clips.tmp-" + std::to_string(gone) + "-7f");
  const fs::path live = out / ".clips.tmp-1-7f";  // init runs for as long as the machine does
  fs::create_directories(dead);
  fs::create_directories(live);
  std::ofstream(dead / "a.safetensors") << "half a clip";
  prepare_dataset(discover_pairs(in, {}), out, {}, {});
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_EQ(PreparedDataset::open(out).clip_names().size(), 1u);
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name.rfind(".clips.tmp-", 0) != 0 || e.path() == live) << "left " << name;
  }
}

TEST(Prepare, TooShortOverlapIsAnError) {
  test::TempDir tmp;
  write_pair(tmp.path(), "a", 1.0, 120.0);
  auto sources = discover_pairs(tmp.path(), {});
  EXPECT_THROW(prepare_clip(sources[0], {}), FormatError);
}

TEST(Prepare, LorisLayoutPairsListsByLine) {
  test::TempDir tmp;
  const fs::path root = tmp.path();
  fs::create_directories(root / "pose2d_s25");
  fs::create_directories(root / "audio_s25");
  // A pose2d segment [T, 17, 3] with confidence, and its music.
  write_pair(root / "audio_s25", "seg1", 4.0, 120.0);
  fs::remove(root / "audio_s25" / "seg1.npy");
  Motion m;
  m.skeleton = skeleton_by_name("coco17");
  m.fps = 25;
  m.joints = (torch::rand({100, 17, 2}) * 100).to(torch::kFloat32);
  m.confidence = torch::ones({100, 17});
  MotionSaveOptions so;
  so.npy_confidence_channel = true;
  save_motion(root / "pose2d_s25" / "seg1.npy", m, so);
  write_bytes_atomically(root / "dance_pose2d_s25_test_segment.txt",
                         "yourpath/dataset/LORIS/dance/pose2d_s25/seg1.npy\n");
  write_bytes_atomically(root / "dance_audio_s25_test_segment.txt",
                         "yourpath/dataset/LORIS/dance/audio_s25/seg1.wav\n");
  auto sources = discover_loris(root, {});
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].split, "test");
  EXPECT_EQ(sources[0].name, "dance/seg1");
  const PreparedClip clip = prepare_clip(sources[0], {});
  EXPECT_EQ(clip.num_frames(), 250);  // 100 frames spanning 4 s of music
  EXPECT_EQ(clip.motion.size(2), 2);
  ASSERT_TRUE(clip.confidence.defined());
  EXPECT_EQ(prepared_clip_file_name(clip.name), "dance__seg1.safetensors");
}

TEST(Prepare, RealDanceWithMelodyClipUsesTheCorrectedTimeBase) {
  MOMU_REQUIRE_DIR(test::dwm_dir());
  DwmLayoutOptions options;
  options.split = test::source_dir() / "data/splits/dwm.json";
  auto sources = discover_dance_with_melody(test::dwm_dir(), options);
  ASSERT_EQ(sources.size(), 37u);
  const PairSource& c2 = sources[0];
  ASSERT_EQ(c2.name, "DANCE_C_2");
  EXPECT_NEAR(c2.motion_fps, 24.62, 1e-9);
  EXPECT_NEAR(c2.music_start_s, 156.0 / 25.0, 1e-9);
  EXPECT_EQ(c2.split, "train");
  EXPECT_EQ(c2.corrections["time_base"], "corrected (per dance)");
  options.beat_snap = true;
  auto snapped = discover_dance_with_melody(test::dwm_dir(), options);
  EXPECT_NEAR(snapped[0].music_start_s, 156.0 / 25.0 - 0.14, 1e-9);
  int unusable = 0;
  for (const auto& s : sources) unusable += !s.usable_for_rhythm;
  EXPECT_EQ(unusable, 8);  // C_4, C_8, R_7, T_5, W_8, W_16, W_18, W_20
  const PreparedClip clip = prepare_clip(c2, {});
  // 1890 frames at 24.62 fps = 76.77 s of dance.
  EXPECT_EQ(clip.num_frames(), static_cast<int64_t>(1890 / 24.62 * 62.5));
  EXPECT_EQ(clip.motion.size(1), 23);
  EXPECT_GT(clip.onsets_s.size(), 20u);
  EXPECT_NEAR(clip.tempo_bpm, 123.0, 3.0);
  EXPECT_GT(clip.motion_beats_s.size(), 50u);
}

TEST(Prepare, AistLayoutMatchesMusicByItsId) {
  test::TempDir tmp;
  const fs::path root = tmp.path();
  fs::create_directories(root / "keypoints3d");
  fs::create_directories(root / "wav");
  write_pair(root / "wav", "mBR0", 4.0, 120.0);
  fs::remove(root / "wav" / "mBR0.npy");
  Motion m;
  m.skeleton = skeleton_by_name("coco17_3d");
  m.fps = 60;
  m.joints = (torch::rand({240, 17, 3}) * 100).to(torch::kFloat32);
  save_motion(root / "keypoints3d" / "gBR_sBM_cAll_d04_mBR0_ch01.npy", m);
  std::ofstream(root / "keypoints3d" / "gBR_sBM_cAll_d04_mBR0_ch02.pkl") << "pickle";
  auto sources = discover_aist(root, {});
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].style, "BR");
  EXPECT_EQ(sources[0].audio_path, root / "wav" / "mBR0.wav");
  const PreparedClip clip = prepare_clip(sources[0], {});
  EXPECT_EQ(clip.num_frames(), 250);  // 240 frames = 4 s of motion, at 62.5 fps
  EXPECT_EQ(clip.skeleton.name, "coco17_3d");
  fs::remove(root / "keypoints3d" / "gBR_sBM_cAll_d04_mBR0_ch01.npy");
  try {
    discover_aist(root, {});
    FAIL() << "no exception";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(".pkl"), std::string::npos) << e.what();
  }
}

TEST(MelStatistics, PerBandOverEveryFrameWithAFloor) {
  // The music VAE's normalisation and stats.json: per band over all frames of all clips.
  torch::manual_seed(5);
  std::vector<at::Tensor> mels = {torch::randn({4, 30}) * 2 + 1, torch::randn({4, 7}) - 3};
  mels.push_back(torch::full({4, 5}, 0.5));
  mels[2][3].fill_(0.5);
  const auto all = torch::cat(mels, 1).to(torch::kFloat64);
  MelStatistics s = mel_statistics(mels);
  ASSERT_EQ(s.mean.size(), 4u);
  EXPECT_EQ(s.frames, 42);
  for (int b = 0; b < 4; ++b) {
    EXPECT_NEAR(s.mean[b], all[b].mean().item<double>(), 1e-12);
    EXPECT_NEAR(s.std[b], all[b].std(/*unbiased=*/false).item<double>(), 1e-9);
  }
  EXPECT_NEAR(s.global_mean, all.mean().item<double>(), 1e-12);
  EXPECT_NEAR(s.global_std, all.std(/*unbiased=*/false).item<double>(), 1e-9);
  // A constant band gets the floor, not zero.
  s = mel_statistics({torch::full({2, 10}, 3.0)});
  EXPECT_DOUBLE_EQ(s.std[0], 1e-3);
  EXPECT_THROW(mel_statistics({}), ShapeError);
  EXPECT_THROW(mel_statistics({torch::zeros({2, 3}), torch::zeros({3, 3})}), ShapeError);
}

// `momu features onsets|beats`: the real binary on golden WAVs and on broken files.
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "golden_util.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "test_util.h"

using namespace momu;

namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

nlohmann::json parse_stdout(const test::CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST(FeaturesCli, OnsetsMatchTheGoldenOnsetsForBothVariants) {
  MOMU_REQUIRE_GOLDEN();
  for (const std::string clip : {"DANCE_C_2", "DANCE_R_9"}) {
    const auto golden = test::golden_clip_json(clip);
    const auto wav = test::golden_dir() / (clip + "_22050.wav");
    for (const std::string variant : {"loris", "d2m"}) {
      SCOPED_TRACE(clip + " " + variant);
      const auto j = parse_stdout(
          test::run_momu("--threads 1 features onsets --variant " + variant + " " + quoted(wav)));
      const auto& g = golden["onsets_" + variant];
      EXPECT_EQ(j["onset_frames"], g["frames"]);
      const auto times = j["onsets_s"].get<std::vector<double>>();
      const auto expected = g["times"].get<std::vector<double>>();
      ASSERT_EQ(times.size(), expected.size());
      for (size_t i = 0; i < times.size(); ++i)
        EXPECT_NEAR(times[i], expected[i], 6e-6 * std::abs(expected[i]) + 1e-9);
      EXPECT_EQ(j["variant"], variant);
      EXPECT_EQ(j["sample_rate_hz"], 22050);
      EXPECT_EQ(j["hop_length"], 512);
    }
  }
}

TEST(FeaturesCli, BeatsMatchTheGoldenBeatTrack) {
  MOMU_REQUIRE_GOLDEN();
  const std::string clip = "DANCE_C_4";
  const auto g = test::golden_clip_json(clip)["beat_track"];
  const auto j = parse_stdout(test::run_momu("--threads 1 features beats " +
                                             quoted(test::golden_dir() / (clip + "_22050.wav"))));
  EXPECT_NEAR(j["tempo_bpm"].get<double>(), g["tempo"].get<double>(), 1e-3);
  EXPECT_EQ(j["beat_frames"], g["beat_frames"]);
  const auto times = j["beats_s"].get<std::vector<double>>();
  const auto expected = g["beat_times"].get<std::vector<double>>();
  ASSERT_EQ(times.size(), expected.size());
  for (size_t i = 0; i < times.size(); ++i)
    EXPECT_NEAR(times[i], expected[i], 6e-6 * std::abs(expected[i]) + 1e-9);
}

TEST(FeaturesCli, ResamplesOtherRatesAndHandlesSilence) {
  test::TempDir tmp;
  Audio a;
  a.sample_rate_hz = 16000;
  a.samples = torch::zeros({16000 * 2}, torch::kFloat32);
  write_wav(tmp.path() / "silence.wav", a);
  const auto onsets =
      parse_stdout(test::run_momu("features onsets " + quoted(tmp.path() / "silence.wav")));
  EXPECT_TRUE(onsets["onsets_s"].empty());
  EXPECT_EQ(onsets["variant"], "loris");
  const auto beats =
      parse_stdout(test::run_momu("features beats " + quoted(tmp.path() / "silence.wav")));
  EXPECT_EQ(beats["tempo_bpm"].get<double>(), 0.0);
  EXPECT_TRUE(beats["beats_s"].empty());
}

TEST(FeaturesCli, BrokenFilesFailWithTheFileNameAndTheirExitCode) {
  test::TempDir tmp;
  const auto missing = tmp.path() / "missing_song.wav";
  const auto empty = tmp.path() / "empty_song.wav";
  const auto corrupt = tmp.path() / "corrupt_song.wav";
  const auto tiny = tmp.path() / "tiny_song.wav";
  std::ofstream(empty).close();
  {
    std::ofstream out(corrupt, std::ios::binary);
    for (int i = 0; i < 4000; ++i) out.put(static_cast<char>((i * 7919) % 251));
  }
  Audio a;
  a.sample_rate_hz = 22050;
  a.samples = torch::zeros({100}, torch::kFloat32);
  write_wav(tiny, a);

  struct Case {
    std::filesystem::path path;
    int exit_code;
  };
  for (const auto& c : {Case{missing, kExitIo}, Case{empty, kExitFormat},
                        Case{corrupt, kExitFormat}, Case{tiny, kExitShape}}) {
    for (const std::string verb : {"onsets --variant d2m", "beats"}) {
      SCOPED_TRACE(c.path.filename().string() + " " + verb);
      const auto r = test::run_momu("features " + verb + " " + quoted(c.path));
      EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
      EXPECT_NE(r.err.find(c.path.filename().string()), std::string::npos) << r.err;
      EXPECT_TRUE(r.out.empty()) << r.out;
    }
  }
}

TEST(FeaturesCli, RejectsAnUnknownVariant) {
  const auto r = test::run_momu("features onsets --variant librosa some.wav");
  EXPECT_EQ(r.exit_code, kExitUsage);
}

// Every numeric option of the momu command line is range-checked when the command line is parsed:
// NaN, infinity and out-of-range values exit 2 naming the option, before any work, and write
// nothing (they were silently replaced by defaults, crashed with SIGFPE or ran out of memory).
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/npy.h"
#include "io/safetensors.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "test_util.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

struct Case {
  std::string args;    // after "momu -q"
  std::string option;  // the name stderr must give
  fs::path output;     // must not exist afterwards
};

void expect_refused(const Case& c) {
  SCOPED_TRACE(c.args);
  const auto r = test::run_momu("-q " + c.args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(c.option), std::string::npos) << r.err;
  if (!c.output.empty()) EXPECT_FALSE(fs::exists(c.output)) << c.output;
}

}  // namespace

TEST(OptionLimits, GenerateRefusesInvalidNumbersBeforeAnyWork) {
  test::TempDir tmp;
  write_npy(tmp.path() / "m.npy", torch::randn({50, 23, 3}) * 30);
  const fs::path out = tmp.path() / "out";
  const std::string joint = "generate --no-preview --out-dir " + test::shell_quoted(out) + " ";
  const std::string m2a = "generate --task motion2music --motion " + test::shell_quoted(tmp.path() / "m.npy") +
                          " --out " + test::shell_quoted(tmp.path() / "o.wav") + " ";
  const std::vector<Case> cases = {
      {joint + "--fps 1e-9", "--fps", out},
      {joint + "--fps 1e9", "--fps", out},
      {joint + "--fps nan", "--fps", out},
      {joint + "--steps -1", "--steps", out},
      {joint + "--steps 0", "--steps", out},
      {joint + "--guidance nan", "--guidance", out},
      {joint + "--eta nan", "--eta", out},
      {joint + "--tc nan", "--tc", out},
      {joint + "--guidance-interval 0.5", "--guidance-interval", out},
      {joint + "--guidance-interval 0.2,1.5", "--guidance-interval", out},
      {joint + "--guidance-interval nan,0.5", "--guidance-interval", out},
      {joint + "--overlap -1", "--overlap", out},
      {joint + "--window 0", "--window", out},
      {joint + "--seconds 1e-9", "--seconds", out},
      {joint + "--seconds inf", "--seconds", out},
      {joint + "--bpm nan", "--bpm", out},
      {joint + "--clock-shift nan", "--clock-shift", out},
      {joint + "--griffin-lim-iterations 100000000", "--griffin-lim-iterations", out},
      {m2a + "--input-fps 1e-9", "--input-fps", tmp.path() / "o.wav"},
      {m2a + "--input-fps nan", "--input-fps", tmp.path() / "o.wav"},
  };
  for (const auto& c : cases) expect_refused(c);
  // An interval upside down: a ConfigError naming the option, before any work.
  const auto r = test::run_momu("-q " + joint + "--guidance-interval 0.8,0.2");
  EXPECT_EQ(r.exit_code, kExitConfig) << r.err;
  EXPECT_NE(r.err.find("--guidance-interval FROM,TO needs FROM <= TO, got 0.8,0.2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(OptionLimits, MotionVerbsRefuseInvalidFrameRates) {
  test::TempDir tmp;
  const fs::path npy = tmp.path() / "m.npy";
  write_npy(npy, torch::randn({50, 23, 3}) * 30);
  Audio audio;
  audio.sample_rate_hz = 22050;
  audio.samples = torch::zeros({22050});
  write_wav(tmp.path() / "m.wav", audio);
  fs::create_directories(tmp.path() / "set");
  write_npy(tmp.path() / "set" / "a.npy", torch::randn({50, 23, 3}) * 30);
  const std::string pair = "--motion " + test::shell_quoted(npy) + " --music " + test::shell_quoted(tmp.path() / "m.wav");
  const std::string set =
      "--generated " + test::shell_quoted(tmp.path() / "set") + " --reference " + test::shell_quoted(tmp.path() / "set");
  const fs::path out = tmp.path() / "o.bvh";
  const fs::path mp4 = tmp.path() / "o.mp4";
  const std::vector<Case> cases = {
      {"features motion-beats " + test::shell_quoted(npy) + " --fps 1e-9", "--fps", {}},
      {"features motion-beats " + test::shell_quoted(npy) + " --fps nan", "--fps", {}},
      {"features kinematic-amplitude " + test::shell_quoted(npy) + " --fps inf", "--fps", {}},
      {"features kinematic-amplitude " + test::shell_quoted(npy) + " --bins 100000", "--bins", {}},
      {"export " + test::shell_quoted(npy) + " " + test::shell_quoted(out) + " --fps nan", "--fps", out},
      {"render --motion " + test::shell_quoted(npy) + " --out " + test::shell_quoted(mp4) + " --video-fps 1e9", "--video-fps", mp4},
      {"render --motion " + test::shell_quoted(npy) + " --out " + test::shell_quoted(mp4) + " --fps 1e-9", "--fps", mp4},
      {"render --motion " + test::shell_quoted(npy) + " --out " + test::shell_quoted(mp4) + " --elevation nan", "--elevation", mp4},
      {"render --motion " + test::shell_quoted(npy) + " --out " + test::shell_quoted(mp4) + " --music-start nan", "--music-start",
       mp4},
      {"render --motion " + test::shell_quoted(npy) + " --out " + test::shell_quoted(mp4) + " --width 100000", "--width", mp4},
      {"eval bas " + pair + " --fps 0", "--fps", {}},
      {"eval alignment " + pair + " --fps 0", "--fps", {}},
      {"eval motion-beats " + pair + " --fps nan", "--fps", {}},
      {"eval fid " + set + " --fps 0", "--fps", {}},
      {"eval plausibility --motion " + test::shell_quoted(npy) + " --fps -25", "--fps", {}},
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(OptionLimits, OtherVerbsRefuseInvalidNumbers) {
  test::TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const fs::path wav = tmp.path() / "o.wav";
  const std::string decode = "decode --vae " + test::shell_quoted(tmp.path() / "vae") + " --latents " +
                             test::shell_quoted(tmp.path() / "l.safetensors") + " --out " + test::shell_quoted(wav);
  const std::vector<Case> cases = {
      {"--threads 100000 info", "--threads", {}},
      {"--threads -1 info", "--threads", {}},
      {decode + " --fps nan", "--fps", wav},
      {decode + " --iterations 0", "--iterations", wav},
      {"encode --vae x --motion m.npy --fps nan --out " + test::shell_quoted(out), "--fps", out},
      {"bench --seconds 1e-9", "--seconds", {}},
      {"bench --joint-memory-seconds nan", "--joint-memory-seconds", {}},
      {"eval-generate --data " + test::shell_quoted(tmp.path()) + " --steps -1 --out " + test::shell_quoted(out), "--steps", out},
      {"eval-generate --data " + test::shell_quoted(tmp.path()) + " --max-seconds nan --out " + test::shell_quoted(out),
       "--max-seconds", out},
      {"eval-generate --data " + test::shell_quoted(tmp.path()) + " --joint-seconds 1e-9 --out " + test::shell_quoted(out),
       "--joint-seconds", out},
      {"prepare --dataset pairs --root " + test::shell_quoted(tmp.path()) + " --out " + test::shell_quoted(out) + " --fps nan",
       "--fps", out},
      {"prepare --dataset pairs --root " + test::shell_quoted(tmp.path()) + " --out " + test::shell_quoted(out) + " --workers 100000",
       "--workers", out},
      {"plot --metrics m.jsonl --out " + test::shell_quoted(tmp.path() / "p.png") + " --width 1000000", "--width",
       tmp.path() / "p.png"},
      {"train-vae --stage music --data " + test::shell_quoted(tmp.path()) + " --out " + test::shell_quoted(out) + " --lambda-c nan",
       "--lambda-c", out},
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(OptionLimits, ValuesInRangeStillParse) {
  // In-range values get past the parser (and fail later for the missing files: not exit 2).
  test::TempDir tmp;
  const auto r = test::run_momu("-q --threads 2 features motion-beats " +
                                test::shell_quoted(tmp.path() / "missing.npy") + " --fps 1000");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const auto g = test::run_momu("-q export " + test::shell_quoted(tmp.path() / "missing.npy") + " " +
                                test::shell_quoted(tmp.path() / "o.json") + " --fps 1");
  EXPECT_EQ(g.exit_code, 3) << g.err;
}

TEST(LatentFiles, BadFrameCountsAreFormatErrorsNamingTheFile) {
  test::TempDir tmp;
  const fs::path vae = test::source_dir() / "models" / "default" / "vae";
  MOMU_REQUIRE_DIR(vae);
  // latent [20, 4]: the default VAE (20 latent channels, 2x time compression) decodes 8 frames.
  auto latent_file = [&](const std::string& frames) {
    const fs::path p = tmp.path() / "l.safetensors";
    save_safetensors(p, {{"latent", torch::randn({20, 4})}},
                     {{"modality", "music"}, {"frames", frames}});
    return p;
  };
  const fs::path out = tmp.path() / "mel.npy";
  for (const std::string frames :
       {"garbage", "-5", "0", "7.5", "99999999999999999999", "1000000"}) {
    SCOPED_TRACE(frames);
    const auto r = test::run_momu("-q decode --vae " + test::shell_quoted(vae) + " --latents " +
                                  test::shell_quoted(latent_file(frames)) + " --out " + test::shell_quoted(out));
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find("l.safetensors"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("'frames'"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
  const auto r = test::run_momu("-q decode --vae " + test::shell_quoted(vae) + " --latents " + test::shell_quoted(latent_file("7")) +
                                " --out " + test::shell_quoted(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_npy(out).data.size(1), 7);
}

// The shipped default model (models/default): it loads, `momu generate` with no options writes
// dance, music and a preview from it, the Debian example music works, and `pack-model` (how it was
// made) is exact, re-stamps fingerprints and refuses mismatched parts.
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/json_file.h"
#include "diffusion/diffusion_expert.h"
#include "generate/model_package.h"
#include "io/safetensors.h"
#include "model/bicor_vae.h"
#include "momu/core/error.h"
#include "momu/generate/pipeline.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "render/render_video.h"
#include "test_util.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {


// The free example music scripts/setup.sh installs (Debian package titanion-data, BSD licence).
const fs::path kDebianMusic = "/usr/share/games/titanion/sounds/musics/ttn2.ogg";

// Runs `momu <args>` in `cwd` without $MOMU_MODEL, capturing stdout and stderr.
test::CommandResult run_momu_in(const fs::path& cwd, const std::string& args) {
  const fs::path out = cwd / ".stdout", err = cwd / ".stderr";
  const std::string cmd = "cd '" + cwd.string() + "' && env -u MOMU_MODEL '" +
                          test::momu_binary() + "' " + args + " > '" + out.string() + "' 2> '" +
                          err.string() + "' < /dev/null";
  const int status = std::system(cmd.c_str());
  test::CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

GenerateOptions quick_options(Pipeline& pipe) {
  GenerateOptions o;
  o.sampler = pipe.default_sampler();
  o.sampler.steps = 3;
  o.sampler.seed = 11;
  o.griffin_lim_iterations = 2;
  return o;
}

}  // namespace

TEST(DefaultModel, ShippedModelLoadsWithBothExpertsInFloat16) {
  ASSERT_TRUE(fs::is_directory(test::shipped_model() / "vae")) << test::shipped_model() << " is missing from the repo";
  Pipeline pipe = Pipeline::load(PipelinePaths::from_model_dir(test::shipped_model()));
  EXPECT_TRUE(pipe.has_motion2music());
  EXPECT_TRUE(pipe.has_music2motion());
  int64_t bytes = 0;
  for (const char* part : {"vae", "motion2music", "music2motion"}) {
    const fs::path dir = test::shipped_model() / part;
    EXPECT_EQ(read_json_file(dir / "config.json")["packed"]["dtype"], "float16") << part;
    const auto f = load_safetensors(dir / "model.safetensors");
    for (const auto& [name, t] : f.tensors) {
      if (t.is_floating_point()) EXPECT_EQ(t.scalar_type(), torch::kHalf) << part << " " << name;
    }
    EXPECT_FALSE(fs::exists(dir / "trainer")) << "optimizer state shipped in " << part;
    bytes += static_cast<int64_t>(fs::file_size(dir / "model.safetensors"));
  }
  EXPECT_LT(bytes, 40ll << 20) << "the shipped weights should stay a few tens of MB";
}

TEST(DefaultModel, GenerateWithNoOptionsWritesDanceMusicAndPreview) {
  test::TempDir tmp;
  const bool ffmpeg = ffmpeg_available(RenderConfig{});
  // The README's command, literally (plus -q); without ffmpeg it must say how to go on.
  auto r = run_momu_in(tmp.path(), "-q generate");
  if (!ffmpeg) {
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_NE(r.err.find("--no-preview"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp.path() / "out" / "music.wav"));
    r = run_momu_in(tmp.path(), "-q generate --no-preview");
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path out = tmp.path() / "out";
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["task"], "joint");
  EXPECT_NEAR(load_audio(out / "music.wav").duration_s(), 20.0, 1e-3);
  const Motion motion = load_motion(out / "motion.json");
  EXPECT_EQ(motion.num_frames(), 600);
  EXPECT_DOUBLE_EQ(motion.fps, 30.0);
  EXPECT_EQ(load_motion(out / "motion.bvh").num_frames(), 600);
  EXPECT_TRUE(torch::isfinite(motion.joints).all().item<bool>());
  if (ffmpeg) {
    EXPECT_GT(fs::file_size(out / "preview.mp4"), 10000u);
    EXPECT_EQ(report["preview"], "out/preview.mp4");
  }
}

TEST(DefaultModel, DancesToTheDebianExampleMusic) {
  if (!fs::exists(kDebianMusic)) {
    GTEST_SKIP() << "skipped: " << kDebianMusic
                 << " is absent (scripts/setup.sh installs the Debian package titanion-data)";
  }
  test::TempDir tmp;
  const fs::path dance = tmp.path() / "ttn2.bvh";
  auto r = run_momu_in(tmp.path(), "-q generate --task music2motion --music " +
                                       kDebianMusic.string() + " --out " + dance.string() +
                                       " --steps 10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Motion motion = load_motion(dance);
  EXPECT_NEAR(motion.duration_s(), load_audio(kDebianMusic).duration_s(), 1.0 / 30 + 1e-9);
  EXPECT_TRUE(torch::isfinite(motion.joints).all().item<bool>());
}

TEST(DefaultModel, MissingModelIsAClearErrorAndWritesNothing) {
  test::TempDir tmp;
  const fs::path missing = tmp.path() / "no_such_model";
  auto r = run_momu_in(tmp.path(), "-q generate --model " + missing.string() + " --out-dir x --no-preview");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(missing.string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "x"));
  r = run_momu_in(tmp.path(), "-q generate --seconds 0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));
}

TEST(DefaultModel, FollowsABeatClockAndKeepsTheAskedTempo) {
  // The shipped experts are the clock experts of issue 12 (docs/training_runs.md, sessions 6-7),
  // sampled with guidance 8, clock guidance 10 and DDIM eta 1 by default.
  Pipeline p = Pipeline::load(PipelinePaths::from_model_dir(test::shipped_model()));
  ASSERT_TRUE(p.music2motion().spec().uses_clock());
  ASSERT_TRUE(p.motion2music().spec().uses_clock());
  EXPECT_FALSE(p.music2motion().spec().clock_tempi_bpm.empty());
  EXPECT_EQ(p.default_sampler().guidance, 8.0);
  EXPECT_EQ(p.motion2music().spec().sampler.guidance, 8.0) << "both experts share the default";
  for (const auto* e : {&p.music2motion(), &p.motion2music()}) {
    EXPECT_EQ(e->spec().sampler.clock_guidance.value_or(-1.0), 10.0);
    EXPECT_EQ(e->spec().sampler.eta, 1.0);
  }
  // Joint generation has its own default (sampling.json, session 9): clock guidance 16 keeps the
  // dances on the shared clock; the rest as the experts'.
  const SamplerConfig joint = p.default_samplers().joint;
  EXPECT_EQ(joint.clock_guidance.value_or(-1.0), 16.0);
  EXPECT_EQ(joint.guidance, 8.0);
  EXPECT_EQ(joint.eta, 1.0);
  // Version 3 (session 12): joint generation dances with its own expert (the wide tempo
  // augmentation) and DPM-Solver++ 25 steps; motion to music DPM-Solver++ 15. Version 4
  // (session 15): music to motion DPM-Solver++ 25 too, and guidance intervals (no guidance below
  // 0.07 T for all three tasks, none above 0.81 T for music to motion; docs/training_runs.md).
  EXPECT_TRUE(p.has_joint_music2motion());
  EXPECT_TRUE(p.joint_dance_expert().spec().uses_clock());
  EXPECT_EQ(joint.sampler, "dpmpp2m");
  EXPECT_EQ(joint.steps, 25);
  EXPECT_EQ(joint.guidance_from, 0.07);
  EXPECT_EQ(joint.guidance_to, 1.0);
  const TaskSamplers defaults = p.default_samplers();
  EXPECT_EQ(defaults.motion2music.sampler, "dpmpp2m");
  EXPECT_EQ(defaults.motion2music.steps, 12);
  EXPECT_EQ(defaults.motion2music.guidance_from, 0.07);
  EXPECT_EQ(defaults.motion2music.guidance_to, 1.0);
  EXPECT_EQ(defaults.music2motion.sampler, "dpmpp2m");
  EXPECT_EQ(defaults.music2motion.steps, 25);
  EXPECT_EQ(defaults.music2motion.guidance_from, 0.07);
  EXPECT_EQ(defaults.music2motion.guidance_to, 0.81);
  // Version 5 (session 16): both experts guidance-distilled (one evaluation per step); joint
  // generation keeps its undistilled dance expert (a distilled one lost a dance's tempo at
  // 120 BPM), so it samples the plain way.
  EXPECT_TRUE(p.music2motion().distilled());
  EXPECT_TRUE(p.motion2music().distilled());
  EXPECT_FALSE(p.joint_dance_expert().distilled());
  GenerateOptions o;
  o.sampler = joint;
  o.sampler.steps = 4;
  o.griffin_lim_iterations = 2;
  o.bpm = 110.0;
  auto [music, motion] = p.joint(3.0, o);
  EXPECT_NEAR(music.clock_tempo_bpm, 110.0, 1e-6);
  EXPECT_NEAR(motion.clock_tempo_bpm, 110.0, 1e-6);
  EXPECT_EQ(motion.motion.num_frames(), 90);
  EXPECT_TRUE(torch::isfinite(motion.motion.joints).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(music.audio.samples).all().item<bool>());
}

TEST(PackModel, Float32RoundTripIsExactAndRestampsTheFingerprint) {
  test::TempDir tmp;
  const std::string shipped_fp = bicor_vae_fingerprint(test::shipped_model() / "vae");
  const fs::path f32 = tmp.path() / "f32";
  const PackSummary s =
      pack_model(PipelinePaths::from_model_dir(test::shipped_model()), f32, WeightDtype::kFloat32);
  ASSERT_EQ(s.parts.size(), 4u);  // vae, motion2music, music2motion, joint_music2motion
  for (const auto& p : s.parts) {
    EXPECT_EQ(p.max_abs_error, 0.0) << p.name << ": float16 -> float32 must be exact";
    EXPECT_GT(p.parameters, 100000) << p.name;
  }
  EXPECT_NE(s.vae_fingerprint, shipped_fp);
  EXPECT_EQ(s.vae_fingerprint, bicor_vae_fingerprint(f32 / "vae"));
  for (const char* e : {"motion2music", "music2motion", "joint_music2motion"}) {
    EXPECT_EQ(read_json_file(f32 / e / "config.json")["model"]["vae_fingerprint"], s.vae_fingerprint);
  }

  // Same weights, same computation: identical outputs for the same seed.
  Pipeline a = Pipeline::load(PipelinePaths::from_model_dir(test::shipped_model()));
  Pipeline b = Pipeline::load(PipelinePaths::from_model_dir(f32));
  auto [music_a, motion_a] = a.joint(1.0, quick_options(a));
  auto [music_b, motion_b] = b.joint(1.0, quick_options(b));
  EXPECT_TRUE(torch::equal(music_a.logmel, music_b.logmel));
  EXPECT_TRUE(torch::equal(motion_a.motion.joints, motion_b.motion.joints));

  // Back to float16: the very bytes that ship (so the fingerprint is the shipped one again).
  const fs::path f16 = tmp.path() / "f16";
  const PackSummary back = pack_model(PipelinePaths::from_model_dir(f32), f16, WeightDtype::kFloat16);
  EXPECT_EQ(back.vae_fingerprint, shipped_fp);
  // The joint task's sampler defaults travel with the model.
  EXPECT_EQ(read_json_file(f16 / "sampling.json"), read_json_file(test::shipped_model() / "sampling.json"));
  for (const auto& p : back.parts) EXPECT_EQ(p.max_abs_error, 0.0) << p.name;
}

TEST(PackModel, SetsTheExpertsGenerationDefaults) {
  test::TempDir tmp;
  const fs::path clock_model = test::shipped_model();
  const fs::path out = tmp.path() / "tuned";
  PackSamplerDefaults samplers;
  samplers.music2motion.guidance = 2.5;
  samplers.music2motion.clock_guidance = 8.0;
  samplers.music2motion.eta = 0.75;
  pack_model(PipelinePaths::from_model_dir(clock_model), out, WeightDtype::kFloat16, {}, samplers);
  Pipeline p = Pipeline::load(PipelinePaths::from_model_dir(out));
  EXPECT_EQ(p.music2motion().spec().sampler.guidance, 2.5);
  EXPECT_EQ(p.music2motion().spec().sampler.clock_guidance.value_or(-1.0), 8.0);
  EXPECT_EQ(p.music2motion().spec().sampler.eta, 0.75);
  Pipeline source = Pipeline::load(PipelinePaths::from_model_dir(clock_model));
  EXPECT_EQ(nlohmann::json(p.motion2music().spec().sampler), nlohmann::json(source.motion2music().spec().sampler))
      << "the other expert was changed";

  // The CLI sets the same; out-of-range values are usage errors, and nothing is written.
  const fs::path cli = tmp.path() / "cli";
  auto r = test::run_momu("pack-model -q --model " + clock_model.string() +
                          " --motion2music-clock-guidance 5 --out " + cli.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json_file(cli / "motion2music" / "config.json")["model"]["sampler"]["clock_guidance"], 5.0);
  r = test::run_momu("pack-model -q --model " + clock_model.string() +
                     " --music2motion-guidance nan --out " + (tmp.path() / "bad").string());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "bad"));
}

TEST(PackModel, RefusesExpertsOfAnotherVaeAndPartialModels) {
  test::TempDir tmp;
  const fs::path f32 = tmp.path() / "f32";
  pack_model(PipelinePaths::from_model_dir(test::shipped_model()), f32, WeightDtype::kFloat32);
  PipelinePaths mixed = PipelinePaths::from_model_dir(test::shipped_model());
  mixed.vae = f32 / "vae";  // same values, another file: the experts record the shipped one
  const fs::path out = tmp.path() / "mixed";
  try {
    pack_model(mixed, out, WeightDtype::kFloat16);
    FAIL() << "experts of another VAE were packed";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("fingerprint"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out));

  PipelinePaths partial = PipelinePaths::from_model_dir(test::shipped_model());
  partial.music2motion.clear();
  EXPECT_THROW(pack_model(partial, out, WeightDtype::kFloat16), ConfigError);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_THROW(weight_dtype_from_string("int8"), ConfigError);

  // The CLI: a usage error names what is missing; a good call prints the sizes.
  auto r = test::run_momu("pack-model -q --vae " + (f32 / "vae").string() + " --out " + out.string());
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_FALSE(fs::exists(out));
  r = test::run_momu("pack-model -q --model " + f32.string() + " --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["dtype"], "float16");
  EXPECT_EQ(report["parts"].size(), 4u);
  EXPECT_LT(report["bytes"].get<int64_t>(), 40ll << 20);
}

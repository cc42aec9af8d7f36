// Diffusion experts end to end on a synthetic prepared folder: training both directions on the
// latents of a tiny BiCoR-VAE, exact resume, config checks, the generation Pipeline (motion to
// music, music to motion, joint), and the train-diffusion / generate / render command lines.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/checkpoint_checks.h"
#include "core/json_file.h"
#include "data/prepared_clip.h"
#include "diffusion/diffusion_expert.h"
#include "eval/report/generation_evaluation.h"
#include "io/safetensors.h"
#include "model/bicor_vae.h"
#include "momu/core/error.h"
#include "momu/generate/pipeline.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "test_util.h"
#include "train/diffusion_trainer.h"
#include "train/metrics_log.h"
#include "train/synthetic_dataset.h"
#include "train/vae_trainer.h"

namespace momu {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Helpers

// Trains the tiny BiCoR-VAE on `data`: the music stage into root/vae_music, then the motion stage
// into root/vae_motion. Returns the checkpoint with both stages (root/vae_motion/last); the
// music-stage-only checkpoint is root/vae_music/last.
fs::path train_tiny_vae(const fs::path& data, const fs::path& root) {
  const VaeRunConfig cfg = load_vae_run_config(test::source_dir() / "configs" / "vae_tiny.json");
  VaeTrainOptions o;
  o.stage = "music";
  o.data_dir = data;
  o.out_dir = root / "vae_music";
  o.config = cfg;
  train_vae(o);
  o.stage = "motion";
  o.out_dir = root / "vae_motion";
  o.music_checkpoint = root / "vae_music" / "last";
  train_vae(o);
  return root / "vae_motion" / "last";
}

// A diffusion run small enough for a unit test (what configs/diffusion_tiny.json should hold).
DiffusionRunConfig tiny_diffusion_config() {
  DiffusionRunConfig c;
  c.denoiser.latent_channels = 0;  // from the VAE
  c.denoiser.cond_channels = 0;
  c.denoiser.hidden = 32;
  c.denoiser.depth = 2;
  c.denoiser.heads = 2;
  c.schedule.timesteps = 50;
  c.train.steps = 4;
  c.train.batch_size = 2;
  c.train.segment_frames = 128;
  c.train.learning_rate = 1e-3;
  c.train.warmup_steps = 2;
  c.train.log_every = 2;
  c.train.validate_every = 4;
  c.train.checkpoint_every = 2;
  c.sampler.steps = 5;
  c.sampler.window = 32;
  c.sampler.overlap = 8;
  return c;
}

void write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// A key anywhere in a JSON document (depth first), or nullptr.
const nlohmann::json* find_key(const nlohmann::json& j, const std::string& key) {
  if (j.is_object()) {
    if (j.contains(key)) return &j.at(key);
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (const auto* found = find_key(it.value(), key)) return found;
    }
  } else if (j.is_array()) {
    for (const auto& v : j) {
      if (const auto* found = find_key(v, key)) return found;
    }
  }
  return nullptr;
}

// Replaces the value of every `key` in a JSON document; returns how many were replaced.
int replace_key(nlohmann::json& j, const std::string& key, const nlohmann::json& value) {
  int n = 0;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == key) {
        it.value() = value;
        ++n;
      } else {
        n += replace_key(it.value(), key, value);
      }
    }
  } else if (j.is_array()) {
    for (auto& v : j) n += replace_key(v, key, value);
  }
  return n;
}

bool all_finite(const at::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

// A mono test tone with a pulse on every beat, `seconds` long.
Audio tone(double seconds, int rate = 16000) {
  const int64_t n = std::llround(seconds * rate);
  auto t = torch::arange(n, torch::kFloat64) / rate;
  auto beat = torch::relu(torch::cos(2.0 * M_PI * 2.0 * t)).pow(8);  // 120 BPM
  auto y = 0.3 * torch::sin(2.0 * M_PI * 440.0 * t) + 0.3 * beat * torch::sin(2.0 * M_PI * 80.0 * t);
  Audio a;
  a.samples = y.to(torch::kFloat32);
  a.sample_rate_hz = rate;
  return a;
}

// Broadband clicks (5 ms noise bursts) at 120 BPM, which the beat tracker's median onset strength
// sees (a narrow-band pulse like tone()'s is invisible to it).
Audio clicks(double seconds, int rate = 16000) {
  torch::manual_seed(11);
  at::Tensor y = 0.01 * torch::randn({std::llround(seconds * rate)});
  const int64_t len = rate / 200;
  for (double t = 0.25; (t + 0.01) * rate < y.size(0); t += 0.5) {
    y.narrow(0, std::llround(t * rate), len).add_(0.5 * torch::randn({len}));
  }
  Audio a;
  a.samples = y;
  a.sample_rate_hz = rate;
  return a;
}

void copy_dir(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy(from, to, fs::copy_options::recursive);
}

// A synthetic prepared folder and a trained tiny VAE in a fresh temp folder.
class DiffusionTrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.path() / "data";
    test::write_synthetic_prepared(data_);
    vae_ = train_tiny_vae(data_, tmp_.path());
    music_only_vae_ = tmp_.path() / "vae_music" / "last";
  }

  DiffusionTrainOptions options(const std::string& direction, const fs::path& out) const {
    DiffusionTrainOptions o;
    o.direction = direction;
    o.vae_dir = vae_;
    o.data_dir = data_;
    o.config = tiny_diffusion_config();
    o.out_dir = out;
    return o;
  }

  // Trains an expert into tmp/<name> and returns its checkpoint (tmp/<name>/last).
  fs::path train_expert(const std::string& direction, const std::string& name) {
    auto r = train_diffusion(options(direction, tmp_.path() / name));
    EXPECT_EQ(r.step, 4);
    return tmp_.path() / name / "last";
  }

  // A model folder (vae/, motion2music/, music2motion/) from checkpoints.
  fs::path assemble_model(const fs::path& m2a, const fs::path& a2m, const std::string& name) {
    const fs::path dir = tmp_.path() / name;
    copy_dir(vae_, dir / "vae");
    copy_dir(m2a, dir / "motion2music");
    copy_dir(a2m, dir / "music2motion");
    return dir;
  }

  test::TempDir tmp_;
  fs::path data_, vae_, music_only_vae_;
};

// ---------------------------------------------------------------------------------------------
// Configs

TEST(DiffusionRunConfig, RoundTripsAndRejectsBadValues) {
  const DiffusionRunConfig c = tiny_diffusion_config();
  EXPECT_NO_THROW(c.validate());
  nlohmann::json j = c;
  const auto back = j.get<DiffusionRunConfig>();
  EXPECT_EQ(back.denoiser.hidden, 32);
  EXPECT_EQ(back.schedule.timesteps, 50);
  EXPECT_EQ(back.train.steps, 4);
  EXPECT_EQ(back.sampler.window, 32);
  EXPECT_DOUBLE_EQ(back.cond_dropout, c.cond_dropout);
  EXPECT_EQ(nlohmann::json(back), j);

  DiffusionRunConfig bad = tiny_diffusion_config();
  bad.cond_dropout = 1.5;
  EXPECT_THROW(bad.validate(), ConfigError) << "cond_dropout > 1 was accepted";
  bad = tiny_diffusion_config();
  bad.cond_dropout = -0.1;
  EXPECT_THROW(bad.validate(), ConfigError) << "cond_dropout < 0 was accepted";
  bad = tiny_diffusion_config();
  bad.denoiser.heads = 3;  // 32 % 3 != 0
  EXPECT_THROW(bad.validate(), ConfigError);
  bad = tiny_diffusion_config();
  bad.train.checkpoint_every = 3;  // not a multiple of log_every
  EXPECT_THROW(bad.validate(), ConfigError);
  bad = tiny_diffusion_config();
  bad.sampler.steps = 0;
  EXPECT_THROW(bad.validate(), ConfigError);
  nlohmann::json unknown = tiny_diffusion_config();
  unknown["train"]["stpes"] = 3;
  EXPECT_THROW(unknown.get<DiffusionRunConfig>(), ConfigError) << "an unknown key was accepted";
  unknown = tiny_diffusion_config();
  unknown["denoisr"] = nlohmann::json::object();
  EXPECT_THROW(unknown.get<DiffusionRunConfig>(), ConfigError) << "an unknown key was accepted";
}

TEST(DiffusionRunConfig, ShippedTinyConfigLoads) {
  const fs::path path = test::source_dir() / "configs" / "diffusion_tiny.json";
  if (!fs::exists(path)) GTEST_SKIP() << "skipped: " << path << " is absent";
  DiffusionRunConfig c;
  ASSERT_NO_THROW(c = load_diffusion_run_config(path));
  EXPECT_LE(c.denoiser.hidden, 64) << "the tiny config is meant for unit tests";
  EXPECT_LE(c.train.steps, 10);
  EXPECT_NO_THROW(c.validate());
  test::TempDir tmp;
  write_json(tmp.path() / "bad.json", nlohmann::json{{"denoiser", {{"hiden", 3}}}});
  EXPECT_THROW(load_diffusion_run_config(tmp.path() / "bad.json"), ConfigError);
}

TEST(DiffusionRunConfig, ShippedConfigsLoad) {
  // Every diffusion run config the repository ships reads back; the distillation ones distil.
  int n = 0;
  for (const auto& e : fs::directory_iterator(test::source_dir() / "configs")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("diffusion_", 0) != 0 && name.rfind("distill_", 0) != 0) continue;
    DiffusionRunConfig c;
    ASSERT_NO_THROW(c = load_diffusion_run_config(e.path())) << name;
    EXPECT_EQ(c.distillation.has_value(), name.rfind("distill_", 0) == 0) << name;
    ++n;
  }
  EXPECT_GE(n, 4);
}

// ---------------------------------------------------------------------------------------------
// Training

TEST_F(DiffusionTrainerTest, BothDirectionsWriteCheckpointsMetricsAndLatents) {
  const std::string fingerprint = bicor_vae_fingerprint(vae_);
  EXPECT_FALSE(fingerprint.empty());
  EXPECT_EQ(bicor_vae_fingerprint(vae_), fingerprint) << "the fingerprint is not deterministic";
  std::vector<DiffusionExpertSpec> specs;
  for (const std::string direction : {"motion2music", "music2motion"}) {
    SCOPED_TRACE(direction);
    const fs::path out = tmp_.path() / direction;
    auto r = train_diffusion(options(direction, out));
    EXPECT_EQ(r.step, 4);
    EXPECT_EQ(r.checkpoint.string(), (out / "last").string());
    for (const char* f : {"last/config.json", "last/model.safetensors", "best/model.safetensors",
                          "metrics.jsonl", "latents.safetensors"}) {
      EXPECT_TRUE(fs::exists(out / f)) << f;
    }
    const auto cfg = read_json_file(out / "last" / "config.json");
    EXPECT_EQ(cfg.at("format"), kDiffusionFormat);
    const auto* dir_field = find_key(cfg, "direction");
    ASSERT_NE(dir_field, nullptr) << "config.json has no \"direction\": " << cfg.dump();
    EXPECT_EQ(*dir_field, direction);

    // Metrics: training averages at steps 2 and 4, validation at step 4.
    const auto metrics = read_metrics(out / "metrics.jsonl");
    int train_lines = 0, validation_lines = 0;
    for (const auto& m : metrics) {
      ASSERT_TRUE(m.contains("loss")) << m.dump();
      EXPECT_TRUE(std::isfinite(m.at("loss").get<double>())) << m.dump();
      const std::string split = m.value("split", "");
      if (split == "train") ++train_lines;
      if (split == "validation") ++validation_lines;
    }
    EXPECT_EQ(train_lines, 2);
    EXPECT_GE(validation_lines, 1);
    ASSERT_TRUE(r.last_validation.is_object()) << r.last_validation.dump();
    EXPECT_TRUE(r.last_validation.contains("loss")) << r.last_validation.dump();

    // The latent cache: both streams of every clip, same length (400 frames / 2).
    const auto cache = load_safetensors(out / "latents.safetensors");
    for (const char* clip : {"synthetic_0", "synthetic_5"}) {
      const std::string a = std::string("music/") + clip, m = std::string("motion/") + clip;
      ASSERT_TRUE(cache.tensors.count(a)) << a;
      ASSERT_TRUE(cache.tensors.count(m)) << m;
      EXPECT_EQ(cache.tensors.at(a).sizes(), (std::vector<int64_t>{8, 200})) << a;
      EXPECT_EQ(cache.tensors.at(m).sizes(), (std::vector<int64_t>{8, 200})) << m;
    }

    // The checkpoint loads as an expert tied to this VAE.
    DiffusionExpert expert = DiffusionExpert::load(out / "last");
    const auto& s = expert.spec();
    EXPECT_EQ(s.direction, direction);
    EXPECT_EQ(s.vae_fingerprint, fingerprint);
    EXPECT_EQ(s.denoiser.latent_channels, 8) << "latent channels come from the VAE";
    EXPECT_EQ(s.denoiser.cond_channels, 8);
    EXPECT_EQ(s.denoiser.hidden, 32);
    EXPECT_EQ(s.schedule.timesteps, 50);
    EXPECT_EQ(s.sampler.steps, 5);
    EXPECT_EQ(s.sampler.window, 32);
    EXPECT_GT(s.music_scale, 0.0);
    EXPECT_GT(s.motion_scale, 0.0);
    EXPECT_TRUE(std::isfinite(s.music_scale) && std::isfinite(s.motion_scale));
    auto eps = expert.eps();
    auto out_eps = eps(torch::randn({1, 8, 20}), torch::tensor({10}, torch::kInt64),
                       torch::randn({1, 8, 20}));
    EXPECT_EQ(out_eps.sizes(), (std::vector<int64_t>{1, 8, 20}));
    EXPECT_TRUE(all_finite(out_eps));
    specs.push_back(s);
  }
  // Both experts scale the latents alike (they share the VAE and the data).
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_DOUBLE_EQ(specs[0].music_scale, specs[1].music_scale);
  EXPECT_DOUBLE_EQ(specs[0].motion_scale, specs[1].motion_scale);
}

TEST_F(DiffusionTrainerTest, ResumeContinuesExactly) {
  train_diffusion(options("music2motion", tmp_.path() / "straight"));
  auto o = options("music2motion", tmp_.path() / "split");
  o.stop_after_steps = 2;
  EXPECT_EQ(train_diffusion(o).step, 2);
  EXPECT_TRUE(fs::exists(tmp_.path() / "split" / "last" / "model.safetensors"));
  o.stop_after_steps = -1;
  o.resume = true;
  EXPECT_EQ(train_diffusion(o).step, 4);
  test::expect_same_tensors(tmp_.path() / "straight" / "last" / "model.safetensors",
                      tmp_.path() / "split" / "last" / "model.safetensors");
  // The metrics read like an uninterrupted run's (timing fields aside).
  const auto a = read_metrics(tmp_.path() / "straight" / "metrics.jsonl");
  const auto b = read_metrics(tmp_.path() / "split" / "metrics.jsonl");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].value("split", ""), b[i].value("split", "")) << "line " << i;
    EXPECT_EQ(a[i].value("step", -1), b[i].value("step", -1)) << "line " << i;
    EXPECT_EQ(a[i].value("loss", -1.0), b[i].value("loss", -1.0)) << "line " << i;
  }
}

TEST_F(DiffusionTrainerTest, InitStartsANewRunFromAnExpertsWeights) {
  auto a = options("motion2music", tmp_.path() / "a");
  a.stop_after_steps = 2;
  train_diffusion(a);
  // A new run from a's weights: with a vanishing learning rate its first checkpoint holds them.
  auto b = options("motion2music", tmp_.path() / "b");
  b.init_dir = tmp_.path() / "a" / "last";
  b.config.train.learning_rate = 1e-12;
  b.stop_after_steps = 1;
  train_diffusion(b);
  const auto wa = load_safetensors(tmp_.path() / "a" / "last" / "model.safetensors").tensors;
  const auto wb = load_safetensors(tmp_.path() / "b" / "last" / "model.safetensors").tensors;
  ASSERT_EQ(wa.size(), wb.size());
  for (const auto& [name, t] : wa) {
    ASSERT_TRUE(wb.count(name)) << name;
    EXPECT_TRUE(torch::allclose(t, wb.at(name), 1e-5, 1e-6)) << name << " was not taken from --init";
  }
  const auto cfg = read_json_file(tmp_.path() / "b" / "last" / "config.json");
  EXPECT_EQ(cfg.at("init").at("path").get<std::string>(), fs::absolute(b.init_dir).string());
  EXPECT_EQ(cfg.at("step").get<int64_t>(), 1) << "an --init run starts at step 0";
  // Resuming keeps the record.
  b.stop_after_steps = 1;
  b.init_dir.clear();
  b.resume = true;
  train_diffusion(b);
  EXPECT_TRUE(read_json_file(tmp_.path() / "b" / "last" / "config.json").at("init").is_object());

  // The wrong kind of expert, or --init with --resume, is refused.
  auto c = options("music2motion", tmp_.path() / "c");
  c.init_dir = tmp_.path() / "a" / "last";
  EXPECT_THROW(train_diffusion(c), ConfigError) << "an expert of the other direction";
  auto d = options("motion2music", tmp_.path() / "d");
  d.init_dir = tmp_.path() / "a" / "last";
  d.config.denoiser.hidden = 64;
  EXPECT_THROW(train_diffusion(d), ConfigError) << "an expert with another denoiser";
  d = options("motion2music", tmp_.path() / "d");
  d.init_dir = tmp_.path() / "missing";
  EXPECT_THROW(train_diffusion(d), IoError) << "a folder that is not a checkpoint";
  b.init_dir = tmp_.path() / "a" / "last";
  EXPECT_THROW(train_diffusion(b), ConfigError) << "--init with --resume";
}

TEST_F(DiffusionTrainerTest, BadRunsAreConfigErrors) {
  // Resume with another config.
  auto o = options("motion2music", tmp_.path() / "run");
  o.stop_after_steps = 2;
  train_diffusion(o);
  o.resume = true;
  o.stop_after_steps = -1;
  o.config.train.learning_rate = 2e-3;
  EXPECT_THROW(train_diffusion(o), ConfigError) << "resume with another learning rate";
  o.config = tiny_diffusion_config();
  o.config.denoiser.hidden = 64;
  EXPECT_THROW(train_diffusion(o), ConfigError) << "resume with another denoiser";
  o.config = tiny_diffusion_config();
  o.direction = "music2motion";
  EXPECT_THROW(train_diffusion(o), ConfigError) << "resume in the other direction";
  // Resume with the checkpoint's own config.
  o.direction = "motion2music";
  o.has_config = false;
  o.config = DiffusionRunConfig{};
  EXPECT_EQ(train_diffusion(o).step, 4);

  // A VAE without its motion stage.
  auto m = options("music2motion", tmp_.path() / "music_only");
  m.vae_dir = music_only_vae_;
  EXPECT_THROW(train_diffusion(m), ConfigError) << "a music-stage-only VAE was accepted";
  // An unknown direction.
  auto d = options("dance2music", tmp_.path() / "dance");
  EXPECT_THROW(train_diffusion(d), ConfigError) << "an unknown direction was accepted";
  d.direction = "";
  EXPECT_THROW(train_diffusion(d), ConfigError) << "an empty direction was accepted";
}

// ---------------------------------------------------------------------------------------------
// Generation

TEST_F(DiffusionTrainerTest, PipelineGeneratesAllThreeTasks) {
  const fs::path m2a = train_expert("motion2music", "m2a");
  const fs::path a2m = train_expert("music2motion", "a2m");
  Pipeline p = Pipeline::load(PipelinePaths{vae_, m2a, a2m});
  ASSERT_TRUE(p.has_motion2music());
  ASSERT_TRUE(p.has_music2motion());
  EXPECT_EQ(p.motion2music().spec().direction, "motion2music");
  EXPECT_EQ(p.music2motion().spec().direction, "music2motion");
  GenerateOptions opt;
  opt.sampler = p.default_sampler();
  EXPECT_EQ(opt.sampler.steps, 5) << "the sampler defaults are the run config's";
  EXPECT_EQ(opt.sampler.window, 32);
  opt.sampler.steps = 3;
  opt.griffin_lim_iterations = 2;
  const int sr = p.vae().spec().logmel.sample_rate_hz;
  const std::string skeleton = p.vae().spec().skeleton.name;

  // Motion to music: a validation clip cut to 187 frames at 62.5 fps (2.992 s, an odd count).
  {
    auto clip = PreparedDataset::open(data_).load("synthetic_4");
    Motion motion{clip.motion.narrow(0, 0, 187).contiguous(), clip.fps, clip.skeleton};
    GenerateTimings timings;
    int64_t progress_calls = 0;
    auto music = p.motion_to_music(motion, opt, &timings,
                                   [&](const Progress&) { ++progress_calls; });
    EXPECT_EQ(music.audio.sample_rate_hz, sr);
    EXPECT_EQ(music.audio.samples.dim(), 1);
    EXPECT_EQ(music.audio.samples.numel(), std::llround(motion.duration_s() * sr))
        << "the music must last exactly as long as the motion";
    EXPECT_TRUE(all_finite(music.audio.samples));
    ASSERT_EQ(music.latent.dim(), 2);
    EXPECT_EQ(music.latent.size(0), 8);
    EXPECT_GE(music.latent.size(1), 93);
    ASSERT_EQ(music.logmel.dim(), 2);
    EXPECT_EQ(music.logmel.size(0), p.vae().spec().logmel.n_mels);
    EXPECT_TRUE(all_finite(music.logmel));
    EXPECT_GT(timings.total(), 0.0);
    EXPECT_GT(progress_calls, 0);
  }

  // Music to motion: a 2.5 s tone at 16 kHz, and 2.0 s at 22.05 kHz (resampled).
  {
    auto dance = p.music_to_motion(tone(2.5), opt);
    EXPECT_EQ(dance.motion.num_frames(), 75) << "2.5 s at 30 fps";
    EXPECT_DOUBLE_EQ(dance.motion.fps, 30.0);
    EXPECT_EQ(dance.motion.skeleton.name, skeleton);
    ASSERT_EQ(dance.motion.joints.dim(), 3);
    EXPECT_EQ(dance.motion.joints.size(1), p.vae().spec().skeleton.num_joints());
    EXPECT_TRUE(all_finite(dance.motion.joints));
    EXPECT_NO_THROW(dance.motion.validate("generated motion"));
    EXPECT_EQ(dance.latent.size(0), 8);
    // Same seed, same dance.
    auto again = p.music_to_motion(tone(2.5), opt);
    EXPECT_TRUE(torch::equal(dance.motion.joints, again.motion.joints))
        << "generation is not deterministic for a fixed seed";
    auto other = p.music_to_motion(tone(2.0, 22050), opt);
    EXPECT_EQ(other.motion.num_frames(), 60) << "2.0 s of 22.05 kHz audio at 30 fps";
    GenerateOptions fps25 = opt;
    fps25.motion_fps = 25.0;
    auto at25 = p.music_to_motion(tone(2.0), fps25);
    EXPECT_EQ(at25.motion.num_frames(), 50);
    EXPECT_DOUBLE_EQ(at25.motion.fps, 25.0);
  }

  // Joint generation.
  {
    auto [music, dance] = p.joint(2.0, opt);
    EXPECT_EQ(music.audio.samples.numel(), std::llround(2.0 * sr));
    EXPECT_EQ(music.audio.sample_rate_hz, sr);
    EXPECT_TRUE(all_finite(music.audio.samples));
    EXPECT_EQ(dance.motion.num_frames(), 60);
    EXPECT_DOUBLE_EQ(dance.motion.fps, 30.0);
    EXPECT_EQ(dance.motion.skeleton.name, skeleton);
    EXPECT_TRUE(all_finite(dance.motion.joints));
    EXPECT_EQ(music.latent.size(1), dance.latent.size(1)) << "both chains have one length";
  }

  // A model folder, and a pipeline with one expert only.
  {
    const fs::path model = assemble_model(m2a, a2m, "model");
    const auto paths = PipelinePaths::from_model_dir(model);
    EXPECT_EQ(paths.vae.string(), (model / "vae").string());
    EXPECT_EQ(paths.motion2music.string(), (model / "motion2music").string());
    EXPECT_EQ(paths.music2motion.string(), (model / "music2motion").string());
    Pipeline from_dir = Pipeline::load(paths);
    EXPECT_TRUE(from_dir.has_motion2music() && from_dir.has_music2motion());

    Pipeline half = Pipeline::load(PipelinePaths{vae_, m2a, {}});
    EXPECT_TRUE(half.has_motion2music());
    EXPECT_FALSE(half.has_music2motion());
    EXPECT_THROW(half.music2motion(), ConfigError);
    EXPECT_THROW(half.music_to_motion(tone(1.0), opt), ConfigError);
    EXPECT_THROW(half.joint(1.0, opt), ConfigError);
  }
}

TEST_F(DiffusionTrainerTest, RhythmConditionedExpertsTrainAndGenerate) {
  // motion2music with the partner latent and a rhythm channel, music2motion with the rhythm alone.
  fs::path ckpt[2];
  const char* directions[2] = {"motion2music", "music2motion"};
  const char* conditions[2] = {"latent+rhythm", "rhythm"};
  const int channels[2] = {8 + 1, 1};  // the tiny VAE's latent has 8 channels
  for (int i = 0; i < 2; ++i) {
    DiffusionTrainOptions o = options(directions[i], tmp_.path() / (std::string("r_") + directions[i]));
    o.config.condition = conditions[i];
    const auto r = train_diffusion(o);
    EXPECT_EQ(r.step, 4);
    ASSERT_TRUE(r.last_validation.contains("loss_null_condition"));
    ckpt[i] = o.out_dir / "last";
    const DiffusionExpert e = DiffusionExpert::load(ckpt[i]);
    EXPECT_EQ(e.spec().condition, conditions[i]);
    EXPECT_EQ(e.spec().denoiser.cond_channels, channels[i]);
    EXPECT_EQ(read_json_file(ckpt[i] / "config.json")["run"]["condition"], conditions[i]);
  }
  // Resuming keeps the setting (the condition width must not change under the weights).
  {
    DiffusionTrainOptions o = options("music2motion", tmp_.path() / "r_music2motion");
    o.resume = true;
    o.has_config = false;
    o.config.train.steps = 6;
    const auto r = train_diffusion(o);
    EXPECT_EQ(r.step, 4) << "without a config, resume keeps the checkpoint's steps";
    DiffusionTrainOptions changed = options("music2motion", tmp_.path() / "r_music2motion");
    changed.resume = true;
    EXPECT_THROW(train_diffusion(changed), ConfigError) << "resume with another condition";
  }
  Pipeline p = Pipeline::load(PipelinePaths{vae_, ckpt[0], ckpt[1]});
  GenerateOptions opt;
  opt.sampler = p.default_sampler();
  opt.sampler.steps = 3;
  opt.griffin_lim_iterations = 2;
  const int sr = p.vae().spec().logmel.sample_rate_hz;
  auto clip = PreparedDataset::open(data_).load("synthetic_4");
  Motion motion{clip.motion.narrow(0, 0, 187).contiguous(), clip.fps, clip.skeleton};
  const auto music = p.motion_to_music(motion, opt);
  EXPECT_EQ(music.audio.samples.numel(), std::llround(motion.duration_s() * sr));
  EXPECT_TRUE(all_finite(music.audio.samples));
  const auto dance = p.music_to_motion(tone(2.5), opt);
  EXPECT_EQ(dance.motion.num_frames(), 75);
  EXPECT_TRUE(all_finite(dance.motion.joints));
  auto [jm, jd] = p.joint(2.0, opt);
  EXPECT_EQ(jm.audio.samples.numel(), std::llround(2.0 * sr));
  EXPECT_EQ(jd.motion.num_frames(), 60);
  EXPECT_TRUE(all_finite(jm.audio.samples) && all_finite(jd.motion.joints));

  // A rhythm expert mixes with a plain one; a config whose channels do not fit is refused.
  const fs::path plain = train_expert("music2motion", "plain_a2m");
  EXPECT_NO_THROW(Pipeline::load(PipelinePaths{vae_, ckpt[0], plain}).joint(1.0, opt));
  const fs::path edited = tmp_.path() / "edited_rhythm";
  copy_dir(ckpt[1], edited);
  auto cfg = read_json_file(edited / "config.json");
  cfg["model"]["condition"] = "latent";  // one condition channel, but a latent condition has 8
  write_json(edited / "config.json", cfg);
  try {
    Pipeline::load(PipelinePaths{vae_, {}, edited});
    FAIL() << "an expert whose condition does not fit the VAE was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(edited.string()), std::string::npos) << e.what();
  }
  // Experts must agree on the latent scales to 0.1% (experts of a float16-packed VAE differ by
  // a few 1e-5 from those of its float32 original).
  for (const double factor : {1.0001, 1.01}) {
    const fs::path scaled = tmp_.path() / ("scaled_" + std::to_string(factor));
    copy_dir(plain, scaled);
    auto sc = read_json_file(scaled / "config.json");
    sc["model"]["music_scale"] = sc["model"]["music_scale"].get<double>() * factor;
    write_json(scaled / "config.json", sc);
    if (factor < 1.001) {
      EXPECT_NO_THROW(Pipeline::load(PipelinePaths{vae_, ckpt[0], scaled}));
    } else {
      EXPECT_THROW(Pipeline::load(PipelinePaths{vae_, ckpt[0], scaled}), ConfigError);
    }
  }
  // Configs written before the field existed load as experts without rhythm channels.
  auto old_cfg = read_json_file(plain / "config.json");
  ASSERT_EQ(old_cfg["model"]["condition"], "latent");
  old_cfg["model"].erase("condition");
  EXPECT_EQ(old_cfg["model"].get<DiffusionExpertSpec>().condition, "latent");
  // Unknown conditions and widths that do not fit the condition are config errors.
  DiffusionRunConfig bad = tiny_diffusion_config();
  bad.condition = "rhythm+latent";
  EXPECT_THROW(bad.validate(), ConfigError);
  auto spec = old_cfg["model"].get<DiffusionExpertSpec>();
  spec.condition = "rhythm";
  EXPECT_THROW(spec.validate(), ConfigError) << "a rhythm condition with 8 channels was accepted";
  spec.denoiser.cond_channels = 1;
  EXPECT_NO_THROW(spec.validate());
  spec.condition = "latent+rhythm";
  EXPECT_THROW(spec.validate(), ConfigError);
}

TEST_F(DiffusionTrainerTest, ExpertsOfAnotherVaeAreRejected) {
  const fs::path m2a = train_expert("motion2music", "m2a");
  const fs::path edited = tmp_.path() / "edited";
  copy_dir(m2a, edited);
  auto cfg = read_json_file(edited / "config.json");
  ASSERT_GE(replace_key(cfg, "vae_fingerprint", "0000"), 1)
      << "config.json has no vae_fingerprint: " << cfg.dump();
  write_json(edited / "config.json", cfg);
  // The expert itself still loads; the pipeline refuses to pair it with this VAE.
  EXPECT_EQ(DiffusionExpert::load(edited).spec().vae_fingerprint, "0000");
  try {
    Pipeline::load(PipelinePaths{vae_, edited, {}});
    FAIL() << "an expert of another VAE was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("fingerprint"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    FAIL() << "expected a ConfigError, got: " << e.what();
  }
  // A folder that is not there.
  EXPECT_THROW(Pipeline::load(PipelinePaths{vae_, tmp_.path() / "nothing", {}}), IoError);
}

// ---------------------------------------------------------------------------------------------
// Command line

TEST_F(DiffusionTrainerTest, CliTrainsAndGenerates) {
  const fs::path cfg = tmp_.path() / "diffusion_tiny.json";
  write_json(cfg, nlohmann::json(tiny_diffusion_config()));
  const std::string common = " --vae " + vae_.string() + " --data " + data_.string() +
                             " --config " + cfg.string();
  const fs::path o1 = tmp_.path() / "cli_m2a", o2 = tmp_.path() / "cli_a2m";
  auto r = test::run_momu("train-diffusion -q --direction motion2music" + common + " --out " +
                          o1.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(o1 / "last" / "model.safetensors"));
  r = test::run_momu("train-diffusion -q --direction music2motion" + common + " --out " +
                     o2.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(o2 / "last" / "model.safetensors"));
  r = test::run_momu("train-diffusion -q --direction dance2music" + common + " --out " +
                     (tmp_.path() / "cli_bad").string());
  EXPECT_NE(r.exit_code, 0) << "an unknown direction was accepted";

  const fs::path model = assemble_model(o1 / "last", o2 / "last", "model");
  const fs::path io = tmp_.path() / "io";
  fs::create_directories(io);
  write_wav(io / "song.wav", tone(3.0));
  const std::string m = " --model " + model.string();

  // Music to motion.
  const fs::path dance = io / "dance.json";
  r = test::run_momu("generate -q" + m + " --task music2motion --music " +
                     (io / "song.wav").string() + " --out " + dance.string() + " --steps 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(dance));
  {
    Motion motion = load_motion(dance);
    EXPECT_NEAR(motion.duration_s(), 3.0, 1.0 / motion.fps + 1e-9);
    EXPECT_EQ(motion.skeleton.name, "dwm23");
  }

  // Motion to music, from the dance just written.
  const fs::path music = io / "music.wav";
  r = test::run_momu("generate -q" + m + " --task motion2music --motion " + dance.string() +
                     " --out " + music.string() + " --steps 3 --griffin-lim-iterations 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(music));
  EXPECT_NEAR(load_audio(music).duration_s(), 3.0, 0.05);

  // Joint generation.
  const fs::path joint = io / "joint";
  r = test::run_momu("generate -q" + m + " --task joint --seconds 2 --out-dir " + joint.string() +
                     " --steps 3 --griffin-lim-iterations 2 --no-preview");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"music.wav", "motion.json", "motion.bvh"}) {
    EXPECT_TRUE(fs::exists(joint / f)) << f;
  }
  if (fs::exists(joint / "music.wav")) {
    EXPECT_NEAR(load_audio(joint / "music.wav").duration_s(), 2.0, 0.01);
  }
  if (fs::exists(joint / "motion.json")) {
    EXPECT_NEAR(load_motion(joint / "motion.json").duration_s(), 2.0, 0.05);
  }
}

TEST_F(DiffusionTrainerTest, CliRejectsBadGenerateInputs) {
  const fs::path model =
      assemble_model(train_expert("motion2music", "m2a"), train_expert("music2motion", "a2m"),
                     "model");
  const fs::path io = tmp_.path() / "io";
  fs::create_directories(io);
  const fs::path song = io / "song.wav";
  write_wav(song, tone(1.5));
  const std::string m = " --model " + model.string();

  // A valid call first, so the failures below are about their one bad input.
  auto r = test::run_momu("generate -q" + m + " --task music2motion --music " + song.string() +
                          " --out " + (io / "ok.json").string() + " --steps 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(io / "ok.json"));

  r = test::run_momu("generate -q" + m + " --task music2motion --out " +
                     (io / "a.json").string() + " --steps 2");
  EXPECT_NE(r.exit_code, 0) << "music2motion without --music was accepted";
  EXPECT_NE(r.err.find("music"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(io / "a.json"));

  r = test::run_momu("generate -q" + m + " --task motion2music --out " +
                     (io / "b.wav").string() + " --steps 2");
  EXPECT_NE(r.exit_code, 0) << "motion2music without --motion was accepted";
  EXPECT_NE(r.err.find("motion"), std::string::npos) << r.err;

  const fs::path xyz = io / "dance.xyz";
  r = test::run_momu("generate -q" + m + " --task music2motion --music " + song.string() +
                     " --out " + xyz.string() + " --steps 2");
  EXPECT_NE(r.exit_code, 0) << "an unknown output extension was accepted";
  EXPECT_FALSE(fs::exists(xyz)) << "a file was written for a rejected extension";

  r = test::run_momu("generate -q" + m + " --task music2motion --music " + song.string() +
                     " --out " + (io / "c.json").string() + " --steps 0");
  EXPECT_NE(r.exit_code, 0) << "--steps 0 was accepted";
  EXPECT_FALSE(fs::exists(io / "c.json"));

  r = test::run_momu("generate -q" + m + " --task dance --music " + song.string() + " --out " +
                     (io / "d.json").string());
  EXPECT_NE(r.exit_code, 0) << "an unknown task was accepted";

  const fs::path missing = tmp_.path() / "no_such_model";
  r = test::run_momu("generate -q --model " + missing.string() + " --task music2motion --music " +
                     song.string() + " --out " + (io / "e.json").string() + " --steps 2");
  EXPECT_NE(r.exit_code, 0) << "a missing model folder was accepted";
  EXPECT_NE(r.err.find(missing.string()), std::string::npos) << r.err;
}

TEST_F(DiffusionTrainerTest, EvaluateGenerationReportsGeneratedRealAndMismatchedRows) {
  const fs::path model =
      assemble_model(train_expert("motion2music", "m2a"), train_expert("music2motion", "a2m"),
                     "model");
  // Give the two validation clips music files: beat pulses at two different tempi.
  PreparedDataset data = PreparedDataset::open(data_);
  const auto names = data.clip_names("validation", /*rhythm_only=*/true);
  ASSERT_EQ(names.size(), 2u);
  for (size_t k = 0; k < names.size(); ++k) {
    PreparedClip clip = data.load(names[k]);
    const int sr = 22050;
    const double bpm = k == 0 ? 120.0 : 87.0;
    auto t = torch::arange(static_cast<int64_t>(std::llround(clip.duration_s() * sr)), torch::kFloat64) / sr;
    auto pulse = torch::relu(torch::cos(2.0 * M_PI * bpm / 60.0 * t)).pow(16);
    Audio a;
    a.sample_rate_hz = sr;
    a.samples = (0.05 * torch::sin(2.0 * M_PI * 440.0 * t) +
                 0.6 * pulse * torch::sin(2.0 * M_PI * 1500.0 * t)).to(torch::kFloat32);
    const fs::path wav = tmp_.path() / (names[k] + ".wav");
    write_wav(wav, a);
    clip.info["audio"] = wav.string();
    save_prepared_clip(data_ / "clips" / clip.info["file"].get<std::string>(), clip);
  }
  data = PreparedDataset::open(data_);
  Pipeline pipe = Pipeline::load(PipelinePaths::from_model_dir(model));
  GenerationEvalOptions o;
  o.generate.sampler = pipe.default_sampler();
  o.generate.sampler.steps = 2;
  o.generate.griffin_lim_iterations = 2;
  o.joint_seconds = 2.0;
  o.joint_samples = 2;
  o.fid_segment_s = 1.0;
  TaskSamplers samplers{o.generate.sampler, o.generate.sampler, o.generate.sampler};
  samplers.joint.steps = 3;  // each task runs with its own sampler
  o.samplers = samplers;
  const nlohmann::json r = evaluate_generation(pipe, data, o);
  EXPECT_EQ(r["samplers"]["joint"]["steps"], 3);
  EXPECT_EQ(r["samplers"]["music2motion"]["steps"], 2);
  EXPECT_EQ(r["samplers"]["motion2music"]["steps"], 2);
  // The joint dances' diversity and distance to the real dances are reported.
  EXPECT_GE(r["joint"]["fid_segments"]["generated"].get<int>(), 2);
  EXPECT_GT(r["joint"]["div_k_generated"].get<double>(), 0.0);
  EXPECT_TRUE(std::isfinite(r["joint"]["fid_k"].get<double>()));
  EXPECT_EQ(r["clips"].size(), 2u);
  EXPECT_EQ(r["motion2music"]["beat_scores_generated_vs_real"]["n"], 2);
  const auto& mismatched_music = r["motion2music"]["beat_scores_mismatched_real_vs_real"];
  EXPECT_EQ(mismatched_music["n"], 2);
  // Each clip's music against the other clip's (another tempo) is not the perfect match (100) a
  // clip's music scored against itself would be.
  EXPECT_LT(mismatched_music["F1"].get<double>(), 99.0);
  for (const char* row : {"generated", "real", "mismatched_real"}) {
    const auto& x = r["music2motion"][row];
    EXPECT_EQ(x["n"], 2) << row;
    EXPECT_TRUE(std::isfinite(x["blc"].get<double>())) << row;
    EXPECT_TRUE(std::isfinite(x["bas"].get<double>())) << row;
  }
  EXPECT_EQ(r["joint"]["samples"], 2);
  EXPECT_GT(r["real_time_factor"].get<double>(), 0.0);
}

TEST_F(DiffusionTrainerTest, CliJointOutputRenders) {
  if (std::system("command -v ffmpeg >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "skipped: ffmpeg is not installed (run scripts/setup.sh)";
  }
  const fs::path model =
      assemble_model(train_expert("motion2music", "m2a"), train_expert("music2motion", "a2m"),
                     "model");
  const fs::path joint = tmp_.path() / "joint";
  auto r = test::run_momu("generate -q --model " + model.string() +
                          " --task joint --seconds 2 --out-dir " + joint.string() +
                          " --steps 3 --griffin-lim-iterations 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(joint / "motion.json"));
  ASSERT_TRUE(fs::exists(joint / "music.wav"));
  // Joint generation writes its preview video by default.
  const fs::path video = joint / "preview.mp4";
  EXPECT_TRUE(fs::exists(video));
  EXPECT_GT(fs::file_size(video), 0u);
  EXPECT_EQ(nlohmann::json::parse(r.out)["preview"], video.string());
  // A preview of music2motion, with the input music; a bad preview extension writes nothing.
  const fs::path dance = tmp_.path() / "dance.bvh", dance_video = tmp_.path() / "dance.mp4";
  r = test::run_momu("generate -q --model " + model.string() + " --task music2motion --music " +
                     (joint / "music.wav").string() + " --out " + dance.string() + " --preview " +
                     dance_video.string() + " --steps 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dance_video));
  const fs::path bad = tmp_.path() / "bad.bvh";
  r = test::run_momu("generate -q --model " + model.string() + " --task music2motion --music " +
                     (joint / "music.wav").string() + " --out " + bad.string() +
                     " --preview " + (tmp_.path() / "bad.gif").string() + " --steps 2");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_FALSE(fs::exists(bad));
}

TEST_F(DiffusionTrainerTest, ClockExpertsTrainWithTempoAugmentationAndGenerate) {
  fs::path ckpt[2];
  const char* directions[2] = {"motion2music", "music2motion"};
  for (int i = 0; i < 2; ++i) {
    DiffusionTrainOptions o = options(directions[i], tmp_.path() / (std::string("c_") + directions[i]));
    o.config.condition = "clock";
    o.config.tempo_stretch = {0.9, 1.0, 1.1};
    const auto r = train_diffusion(o);
    EXPECT_EQ(r.step, 4);
    ASSERT_TRUE(r.last_validation.contains("loss_null_condition"));
    ckpt[i] = o.out_dir / "last";
    const DiffusionExpert e = DiffusionExpert::load(ckpt[i]);
    EXPECT_TRUE(e.spec().uses_clock());
    EXPECT_EQ(e.spec().denoiser.cond_channels, 7);
    EXPECT_EQ(e.spec().clock_tempi_bpm.size(), 4u) << "one tempo per training clip";
    const auto cfg = read_json_file(ckpt[i] / "config.json");
    EXPECT_EQ(cfg["run"]["tempo_stretch"].size(), 3u);
    EXPECT_TRUE(cfg["model"].contains("motion_clock"));
    // The latent cache holds the stretched training clips (and only rate 1 of the others).
    const auto cache = load_safetensors(o.out_dir / "latents.safetensors");
    EXPECT_TRUE(cache.tensors.count("music/synthetic_0@0.9000"));
    EXPECT_TRUE(cache.tensors.count("motion/synthetic_0@1.1000"));
    EXPECT_FALSE(cache.tensors.count("music/synthetic_4@0.9000")) << "validation clips are not stretched";
    EXPECT_NEAR(cache.tensors.at("music/synthetic_0@0.9000").size(1),
                cache.tensors.at("music/synthetic_0").size(1) / 0.9, 1.0);
  }
  // The scales come from the unstretched clips only: both experts agree with a plain one.
  const fs::path plain = train_expert("music2motion", "plain_a2m");
  EXPECT_NEAR(DiffusionExpert::load(ckpt[0]).spec().music_scale,
              DiffusionExpert::load(plain).spec().music_scale, 1e-9);

  Pipeline p = Pipeline::load(PipelinePaths{vae_, ckpt[0], ckpt[1]});
  GenerateOptions opt;
  opt.sampler = p.default_sampler();
  opt.sampler.steps = 3;
  opt.griffin_lim_iterations = 2;
  auto clip = PreparedDataset::open(data_).load("synthetic_4");
  Motion motion{clip.motion.narrow(0, 0, 250).contiguous(), clip.fps, clip.skeleton};
  const auto music = p.motion_to_music(motion, opt);
  EXPECT_TRUE(all_finite(music.audio.samples));
  EXPECT_GT(music.clock_tempo_bpm, 0.0) << "the dance's clock was read";
  const auto dance = p.music_to_motion(clicks(6.0), opt);
  EXPECT_TRUE(all_finite(dance.motion.joints));
  EXPECT_EQ(dance.clock_confidence, 1.0) << "the song's beats were tracked";
  EXPECT_NEAR(dance.clock_tempo_bpm, 120.0, 4.0) << "the clicks are at 120 BPM";
  // The shift moves the clock the expert sees, so the output changes.
  GenerateOptions shifted = opt;
  shifted.clock_shift_beats = 0.5;
  EXPECT_FALSE(torch::allclose(p.music_to_motion(clicks(6.0), shifted).latent, dance.latent));
  // Beat lock warps the decoded outputs only: same latent, frames moved in time.
  GenerateOptions locked = opt;
  locked.beat_lock = true;
  const auto locked_dance = p.music_to_motion(clicks(6.0), locked);
  EXPECT_TRUE(torch::equal(locked_dance.latent, dance.latent));
  EXPECT_EQ(locked_dance.motion.num_frames(), dance.motion.num_frames());
  EXPECT_TRUE(all_finite(locked_dance.motion.joints));
  const auto locked_music = p.motion_to_music(motion, locked);
  EXPECT_EQ(locked_music.audio.samples.numel(), music.audio.samples.numel());
  EXPECT_TRUE(all_finite(locked_music.audio.samples));
  // Joint: one clock at the asked tempo for both; without --bpm a training tempo.
  opt.bpm = 90.0;
  auto [jm, jd] = p.joint(2.0, opt);
  EXPECT_NEAR(jm.clock_tempo_bpm, 90.0, 1e-6);
  EXPECT_NEAR(jd.clock_tempo_bpm, 90.0, 1e-6);
  EXPECT_TRUE(all_finite(jm.audio.samples) && all_finite(jd.motion.joints));
  opt.bpm = 0.0;
  auto [dm, dd] = p.joint(2.0, opt);
  const auto& tempi = p.music2motion().spec().clock_tempi_bpm;
  EXPECT_NE(std::find_if(tempi.begin(), tempi.end(), [&](double t) { return std::abs(t - dd.clock_tempo_bpm) < 1e-6; }),
            tempi.end());
  // A tempo or a shift for experts without a clock is refused, as is a mix of the two kinds.
  Pipeline plain_pipe = Pipeline::load(PipelinePaths{vae_, {}, plain});
  EXPECT_THROW(plain_pipe.music_to_motion(tone(2.0), shifted), ConfigError);
  EXPECT_THROW(Pipeline::load(PipelinePaths{vae_, ckpt[0], plain}).joint(1.0, opt), ConfigError);
  // A clock condition with a width other than 7 is not a valid spec.
  auto spec = DiffusionExpert::load(ckpt[1]).spec();
  spec.denoiser.cond_channels = 8;
  EXPECT_THROW(spec.validate(), ConfigError);
  DiffusionRunConfig bad = tiny_diffusion_config();
  bad.tempo_stretch = {3.0};
  EXPECT_THROW(bad.validate(), ConfigError);
  bad.tempo_stretch = {1.0};
  bad.clock_dropout = 1.0;
  EXPECT_THROW(bad.validate(), ConfigError);
}

TEST_F(DiffusionTrainerTest, GuidanceDistillationTrainsAStudentOfItsTeacher) {
  const char* directions[2] = {"motion2music", "music2motion"};
  fs::path teacher[2], student[2];
  auto distill_options = [&](int i, const std::string& name) {
    DiffusionTrainOptions d = options(directions[i], tmp_.path() / name);
    d.config.condition = "clock";
    d.config.denoiser.guidance_embedding = true;
    d.config.distillation = DistillationConfig{};
    d.config.distillation->teacher = teacher[i].string();
    return d;
  };
  for (int i = 0; i < 2; ++i) {
    DiffusionTrainOptions o = options(directions[i], tmp_.path() / (std::string("t_") + directions[i]));
    o.config.condition = "clock";
    train_diffusion(o);
    teacher[i] = o.out_dir / "last";
    DiffusionTrainOptions d = distill_options(i, std::string("s_") + directions[i]);
    d.config.distillation->guidance_from = i == 0 ? 0.2 : 0.0;  // motion2music: t < 0.2 T at (1, 1)
    const auto r = train_diffusion(d);
    EXPECT_EQ(r.step, 4);
    ASSERT_TRUE(r.last_validation.contains("loss_distillation"));
    EXPECT_GT(r.last_validation.at("loss_distillation").get<double>(), 0.0);
    student[i] = d.out_dir / "last";
    const DiffusionExpert s = DiffusionExpert::load(student[i]), t = DiffusionExpert::load(teacher[i]);
    EXPECT_TRUE(s.distilled());
    EXPECT_FALSE(t.distilled());
    EXPECT_EQ(s.spec().music_scale, t.spec().music_scale) << "the teacher's latent scales";
    EXPECT_EQ(s.spec().clock_tempi_bpm, t.spec().clock_tempi_bpm);
    EXPECT_EQ(read_json_file(student[i] / "config.json").at("run").at("distillation").at("teacher"),
              teacher[i].string());
  }
  // The student starts from its teacher's weights (a vanishing learning rate keeps them).
  DiffusionTrainOptions still = distill_options(1, "still");
  still.config.train.learning_rate = 1e-12;
  still.stop_after_steps = 1;
  train_diffusion(still);
  const auto wt = load_safetensors(teacher[1] / "model.safetensors").tensors;
  const auto ws = load_safetensors(tmp_.path() / "still" / "last" / "model.safetensors").tensors;
  EXPECT_EQ(ws.size(), wt.size() + 4) << "the guidance embedding's two layers";
  for (const auto& [name, w] : wt) {
    ASSERT_TRUE(ws.count(name)) << name;
    EXPECT_TRUE(torch::allclose(w, ws.at(name), 1e-5, 1e-6)) << name << " was not taken from the teacher";
  }
  // Resume is exact (the scales are drawn from the step's seed).
  DiffusionTrainOptions split = distill_options(1, "split");
  split.stop_after_steps = 2;
  train_diffusion(split);
  split.stop_after_steps = -1;
  split.resume = true;
  split.config.distillation->teacher.clear();  // the checkpoint's run config names it
  split.has_config = false;
  EXPECT_EQ(train_diffusion(split).step, 4);
  test::expect_same_tensors(student[1] / "model.safetensors", tmp_.path() / "split" / "last" / "model.safetensors");

  // Generation: one evaluation per step for the single tasks and for each chain of joint
  // generation; a pipeline of one distilled and one plain expert samples the plain way.
  Pipeline p = Pipeline::load(PipelinePaths{vae_, student[0], student[1]});
  GenerateOptions opt;
  opt.sampler = p.default_sampler();
  opt.sampler.steps = 3;
  opt.sampler.clock_guidance = 6.0;
  opt.griffin_lim_iterations = 2;
  GenerateTimings timings;
  const auto dance = p.music_to_motion(clicks(4.0), opt, &timings);
  EXPECT_TRUE(all_finite(dance.motion.joints));
  const double one_pass = timings.denoiser_gflop;
  Pipeline teachers = Pipeline::load(PipelinePaths{vae_, teacher[0], teacher[1]});
  GenerateTimings teacher_timings;
  teachers.music_to_motion(clicks(4.0), opt, &teacher_timings);
  EXPECT_NEAR(teacher_timings.denoiser_gflop / one_pass, 3.0, 0.05) << "three evaluations per guided step";
  auto clip = PreparedDataset::open(data_).load("synthetic_4");
  Motion motion{clip.motion.narrow(0, 0, 200).contiguous(), clip.fps, clip.skeleton};
  EXPECT_TRUE(all_finite(p.motion_to_music(motion, opt).audio.samples));
  opt.bpm = 100.0;
  auto [jm, jd] = p.joint(3.0, opt);
  EXPECT_TRUE(all_finite(jm.audio.samples) && all_finite(jd.motion.joints));
  EXPECT_NEAR(jd.clock_tempo_bpm, 100.0, 1e-6);
  auto [mm, md] = Pipeline::load(PipelinePaths{vae_, student[0], teacher[1]}).joint(3.0, opt);
  EXPECT_TRUE(all_finite(mm.audio.samples) && all_finite(md.motion.joints));

  // Bad runs, refused before any work.
  DiffusionTrainOptions bad = distill_options(0, "bad");
  bad.config.distillation->teacher = teacher[1].string();
  EXPECT_THROW(train_diffusion(bad), ConfigError) << "a teacher of the other direction";
  bad = distill_options(0, "bad");
  bad.config.distillation->teacher.clear();
  EXPECT_THROW(train_diffusion(bad), ConfigError) << "no teacher";
  bad = distill_options(0, "bad");
  bad.config.distillation->teacher = student[0].string();
  EXPECT_THROW(train_diffusion(bad), ConfigError) << "a distilled teacher";
  bad = distill_options(0, "bad");
  bad.init_dir = teacher[0];
  EXPECT_THROW(train_diffusion(bad), ConfigError) << "--init beside a teacher";
  bad = distill_options(0, "bad");
  bad.config.condition = "latent";
  EXPECT_THROW(train_diffusion(bad), ConfigError) << "another condition than the teacher's";
  bad = distill_options(0, "bad");
  bad.config.denoiser.depth = 3;
  EXPECT_THROW(train_diffusion(bad), ConfigError) << "another denoiser than the teacher's";
  bad = distill_options(0, "bad");
  bad.config.distillation->teacher = (tmp_.path() / "missing").string();
  EXPECT_THROW(train_diffusion(bad), IoError);
  EXPECT_FALSE(fs::exists(tmp_.path() / "bad")) << "nothing written for a refused run";
  DiffusionRunConfig cfg = tiny_diffusion_config();
  cfg.denoiser.guidance_embedding = true;
  EXPECT_THROW(cfg.validate(), ConfigError) << "a guidance embedding without distillation";
  cfg.distillation = DistillationConfig{};
  EXPECT_NO_THROW(cfg.validate());
  EXPECT_EQ(nlohmann::json(cfg).get<DiffusionRunConfig>().distillation->guidance_max, 10.0);
  cfg.distillation->guidance_from = 0.07;
  EXPECT_EQ(nlohmann::json(cfg).get<DiffusionRunConfig>().distillation->guidance_from, 0.07);
  cfg.distillation->guidance_from = 1.5;
  EXPECT_THROW(cfg.validate(), ConfigError);
  cfg.distillation->guidance_from = 0.0;
  cfg.distillation->guidance_min = 0.5;
  EXPECT_THROW(cfg.validate(), ConfigError);
  EXPECT_FALSE(nlohmann::json(tiny_diffusion_config()).contains("distillation"));
}

TEST_F(DiffusionTrainerTest, CliClockOptionsAreCheckedBeforeWork) {
  const fs::path model =
      assemble_model(train_expert("motion2music", "m2a"), train_expert("music2motion", "a2m"), "model");
  const fs::path io = tmp_.path() / "io";
  fs::create_directories(io);
  write_wav(io / "song.wav", tone(2.0));
  const std::string m = " --model " + model.string();
  auto r = test::run_momu("generate -q" + m + " --task music2motion --bpm 100 --music " +
                          (io / "song.wav").string() + " --out " + (io / "a.json").string() + " --steps 2");
  EXPECT_NE(r.exit_code, 0) << "--bpm outside joint generation was accepted";
  EXPECT_NE(r.err.find("--bpm"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(io / "a.json"));
  r = test::run_momu("generate -q" + m + " --task joint --bpm 100 --seconds 1 --out-dir " +
                     (io / "j").string() + " --steps 2 --no-preview");
  EXPECT_NE(r.exit_code, 0) << "--bpm with experts that have no clock was accepted";
  EXPECT_NE(r.err.find("clock"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(io / "j" / "music.wav"));
  r = test::run_momu("generate -q" + m + " --task joint --bpm 1000 --seconds 1 --out-dir " +
                     (io / "k").string() + " --no-preview");
  EXPECT_NE(r.exit_code, 0) << "--bpm 1000 was accepted";
}

}  // namespace
}  // namespace momu

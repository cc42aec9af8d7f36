// BiCoR-VAE training: both stages on a synthetic prepared folder, exact resume, config checks,
// the inference bundle, and the train-vae / inspect / encode / decode command lines.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "cli/checkpoint_checks.h"
#include "core/json_file.h"
#include "data/prepared_clip.h"
#include "io/safetensors.h"
#include "model/bicor_vae.h"
#include "momu/core/error.h"
#include "momu/io/motion_file.h"
#include "test_util.h"
#include "train/metrics_log.h"
#include "train/synthetic_dataset.h"
#include "train/vae_trainer.h"

namespace momu {
namespace {

namespace fs = std::filesystem;

VaeRunConfig tiny_config() {
  return load_vae_run_config(test::source_dir() / "configs" / "vae_tiny.json");
}

VaeTrainOptions options(const fs::path& data, const fs::path& out, const std::string& stage) {
  VaeTrainOptions o;
  o.stage = stage;
  o.data_dir = data;
  o.out_dir = out;
  o.config = tiny_config();
  return o;
}

TEST(VaeTrainer, MusicStageWritesCheckpointsAndMetrics) {
  test::TempDir tmp;
  test::write_synthetic_prepared(tmp.path() / "data");
  auto r = train_vae(options(tmp.path() / "data", tmp.path() / "run", "music"));
  EXPECT_EQ(r.step, 4);
  for (const char* f : {"last/config.json", "last/model.safetensors", "last/trainer/optimizer.pt",
                        "last/trainer/weights.safetensors", "last/trainer/state.json",
                        "best/model.safetensors", "metrics.jsonl"}) {
    EXPECT_TRUE(fs::exists(tmp.path() / "run" / f)) << f;
  }
  auto metrics = read_metrics(tmp.path() / "run" / "metrics.jsonl");
  ASSERT_EQ(metrics.size(), 3u);  // train at 2 and 4, validation at 4
  EXPECT_EQ(metrics[0]["split"], "train");
  for (const char* k : {"loss", "rec", "kl", "lr", "grad_norm", "samples_per_s"}) {
    EXPECT_TRUE(metrics[0].contains(k)) << k;
  }
  EXPECT_EQ(metrics[2]["split"], "validation");
  EXPECT_TRUE(metrics[2].contains("logmel_l1"));
  BicorVae vae = BicorVae::load(tmp.path() / "run" / "last");
  EXPECT_FALSE(vae.has_motion());
  EXPECT_THROW(vae.motion(), ConfigError);
  auto z = vae.encode_music(torch::randn({80, 101}) - 2.0);
  EXPECT_EQ(z.sizes(), (std::vector<int64_t>{8, 51}));
  EXPECT_EQ(vae.decode_music(z).sizes(), (std::vector<int64_t>{80, 102}));
}

TEST(VaeTrainer, ResumeContinuesExactly) {
  test::TempDir tmp;
  test::write_synthetic_prepared(tmp.path() / "data");
  train_vae(options(tmp.path() / "data", tmp.path() / "straight", "music"));
  auto o = options(tmp.path() / "data", tmp.path() / "split", "music");
  o.stop_after_steps = 2;
  EXPECT_EQ(train_vae(o).step, 2);
  o.stop_after_steps = -1;
  o.resume = true;
  EXPECT_EQ(train_vae(o).step, 4);
  test::expect_same_tensors(tmp.path() / "straight" / "last" / "model.safetensors",
                      tmp.path() / "split" / "last" / "model.safetensors");
  test::expect_same_tensors(tmp.path() / "straight" / "last" / "trainer" / "weights.safetensors",
                      tmp.path() / "split" / "last" / "trainer" / "weights.safetensors");
  EXPECT_EQ(test::stable_metrics(tmp.path() / "straight" / "metrics.jsonl"),
            test::stable_metrics(tmp.path() / "split" / "metrics.jsonl"));
}

TEST(VaeTrainer, ResumeWithAnotherConfigIsAConfigError) {
  test::TempDir tmp;
  test::write_synthetic_prepared(tmp.path() / "data");
  auto o = options(tmp.path() / "data", tmp.path() / "run", "music");
  o.stop_after_steps = 2;
  train_vae(o);
  o.resume = true;
  o.config.music_vae.base_channels = 32;
  EXPECT_THROW(train_vae(o), ConfigError);
  o.config = tiny_config();
  o.config.music_train.steps = 6;  // a longer schedule is allowed
  o.stop_after_steps = -1;
  EXPECT_EQ(train_vae(o).step, 6);
  o.stage = "motion";  // the checkpoint is a music-stage one
  EXPECT_THROW(train_vae(o), ConfigError);
}

TEST(VaeTrainer, MotionStageAlignsLatentLengthsAndLogsTheContrastiveLoss) {
  test::TempDir tmp;
  test::write_synthetic_prepared(tmp.path() / "data");
  train_vae(options(tmp.path() / "data", tmp.path() / "music", "music"));
  auto o = options(tmp.path() / "data", tmp.path() / "motion", "motion");
  EXPECT_THROW(train_vae(o), ConfigError);  // no --music-vae
  o.music_checkpoint = tmp.path() / "music" / "last";
  // The motion stage's contrastive settings come from its run config, not the music checkpoint.
  o.config.contrastive.negatives = "segment";
  o.config.contrastive.center = true;
  auto r = train_vae(o);
  EXPECT_EQ(r.step, 4);
  ASSERT_TRUE(r.last_validation.is_object());
  for (const char* k : {"mpjpe_cm", "contrastive", "retrieval_top1", "retrieval_top5",
                        "retrieval_chance_top1"}) {
    EXPECT_TRUE(r.last_validation.contains(k)) << k;
  }
  auto metrics = read_metrics(tmp.path() / "motion" / "metrics.jsonl");
  EXPECT_TRUE(metrics[0].contains("contrastive"));
  // The music VAE stayed frozen: its weights are the music checkpoint's.
  auto music = load_safetensors(tmp.path() / "music" / "last" / "model.safetensors");
  auto both = load_safetensors(tmp.path() / "motion" / "last" / "model.safetensors");
  for (const auto& [name, t] : music.tensors) {
    EXPECT_TRUE(torch::equal(t, both.tensors.at(name))) << name;
  }
  BicorVae vae = BicorVae::load(tmp.path() / "motion" / "last");
  ASSERT_TRUE(vae.has_motion());
  EXPECT_EQ(vae.spec().contrastive.negatives, "segment");
  EXPECT_TRUE(vae.spec().contrastive.center);
  {
    auto data = PreparedDataset::open(tmp.path() / "data");
    auto clip = data.load("synthetic_5");
    auto za = vae.encode_music(clip.mel);
    auto zm = vae.encode_motion_joints(clip.motion);
    EXPECT_EQ(za.sizes(), zm.sizes());
    Motion back = vae.decode_motion(zm, clip.motion[0][0]);
    EXPECT_EQ(back.num_frames(), clip.num_frames());
    EXPECT_EQ(back.skeleton.name, "dwm23");
  }
}

TEST(VaeTrainer, BadConfigsAreRejected) {
  VaeRunConfig c = tiny_config();
  c.music_train.lambda_c = 0.5;
  EXPECT_THROW(c.validate(), ConfigError);
  c = tiny_config();
  c.motion_vae.latent_channels = 4;
  EXPECT_THROW(c.validate(), ConfigError);
  c = tiny_config();
  c.motion_train.segment_frames = 63;
  EXPECT_THROW(c.validate(), ConfigError);
  c = tiny_config();
  c.music_train.checkpoint_every = 3;  // not a multiple of log_every
  EXPECT_THROW(c.validate(), ConfigError);
  nlohmann::json j = tiny_config();
  j["music_train"]["stpes"] = 3;
  EXPECT_THROW(j.get<VaeRunConfig>(), ConfigError);
}

TEST(VaeCli, TrainInspectEncodeDecode) {
  test::TempDir tmp;
  test::write_synthetic_prepared(tmp.path() / "data");
  const std::string data = (tmp.path() / "data").string();
  const std::string cfg = (test::source_dir() / "configs" / "vae_tiny.json").string();
  auto r = test::run_momu("train-vae -q --stage motion --data " + data + " --config " + cfg +
                          " --out " + (tmp.path() / "m").string());
  EXPECT_EQ(r.exit_code, 5) << r.err;  // ConfigError: no --music-vae
  EXPECT_NE(r.err.find("--music-vae"), std::string::npos) << r.err;
  r = test::run_momu("train-vae -q --stage music --data " + data + " --config " + cfg + " --out " +
                     (tmp.path() / "a").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_momu("train-vae -q --stage motion --data " + data + " --config " + cfg +
                     " --music-vae " + (tmp.path() / "a" / "last").string() + " --out " +
                     (tmp.path() / "m").string() + " --lambda-c 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto cfg_json = read_json_file(tmp.path() / "m" / "last" / "config.json");
  EXPECT_EQ(cfg_json["train"]["lambda_c"].get<double>(), 0.0);
  const std::string ck = (tmp.path() / "m" / "last").string();
  r = test::run_momu("inspect --json " + ck);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(r.out);
  EXPECT_GT(info["parameters_by_module"]["music"].get<int64_t>(), 0);
  EXPECT_GT(info["parameters_by_module"]["motion"].get<int64_t>(), 0);
  r = test::run_momu("inspect " + (tmp.path() / "nothing").string());
  EXPECT_EQ(r.exit_code, 3);
  // Motion round trip through latents (npy in, bvh out).
  auto clip = PreparedDataset::open(tmp.path() / "data").load("synthetic_4");
  test::TempDir io;
  const fs::path npy = io.path() / "dance.npy";
  {
    Motion m;
    m.joints = clip.motion;
    m.fps = 62.5;
    m.skeleton = clip.skeleton;
    save_motion(npy, m);
  }
  const std::string lat = (io.path() / "dance.latent.safetensors").string();
  r = test::run_momu("encode -q --vae " + ck + " --motion " + npy.string() +
                     " --fps 62.5 --skeleton dwm23 --out " + lat);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto enc = nlohmann::json::parse(r.out);
  EXPECT_EQ(enc["latent_shape"][1].get<int64_t>(), clip.num_frames() / 2);
  r = test::run_momu("decode -q --vae " + ck + " --latents " + lat + " --out " +
                     (io.path() / "back.json").string() + " --fps 25");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out)["duration_s"].get<double>(), clip.duration_s(), 0.05);
  // A music latent given to a motion output, and a corrupt latent file.
  r = test::run_momu("decode -q --vae " + ck + " --latents " + npy.string() + " --out x.json");
  EXPECT_EQ(r.exit_code, 4) << r.err;
}

}  // namespace

TEST(VaeTrainer, ResumeWithoutAConfigTakesTheCheckpointsAndAStepCount) {
  // What `momu train-vae --resume --steps N` does without --config: the library reads the
  // checkpoint's run config (the CLI no longer opens last/config.json) and sets the step count.
  test::TempDir tmp;
  test::write_synthetic_prepared(tmp.path() / "data");
  auto o = options(tmp.path() / "data", tmp.path() / "run", "music");
  o.stop_after_steps = 2;
  train_vae(o);
  VaeTrainOptions r = o;
  r.resume = true;
  r.has_config = false;
  r.config = VaeRunConfig();  // ignored: the checkpoint's is used
  r.stop_after_steps = -1;
  r.steps = 6;
  EXPECT_EQ(train_vae(r).step, 6);
  r.steps = 0;
  r.lambda_c = 0.5;  // any field but the steps must stay as the checkpoint has it
  EXPECT_THROW(train_vae(r), ConfigError);
  VaeTrainOptions fresh = o;
  fresh.out_dir = tmp.path() / "fresh";
  fresh.has_config = false;
  EXPECT_THROW(train_vae(fresh), ConfigError) << "a new run needs a config";
}

TEST(TrainSchedule, WarmupThenCosineDecayAndARampedEmaDecay) {
  // The schedules TrainingRun applies at every step (src/train/train_config.h).
  TrainConfig c;
  c.steps = 1100;
  c.warmup_steps = 100;
  c.learning_rate = 1e-3;
  c.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(c.learning_rate_at(0), 1e-5);         // (0 + 1) / 100 of the peak
  EXPECT_DOUBLE_EQ(c.learning_rate_at(49), 5e-4);
  EXPECT_DOUBLE_EQ(c.learning_rate_at(99), 1e-3);        // the peak at the end of warm-up
  EXPECT_DOUBLE_EQ(c.learning_rate_at(100), 1e-3);       // cosine starts at the peak
  EXPECT_NEAR(c.learning_rate_at(600), 1e-3 * (0.1 + 0.9 * 0.5), 1e-15);  // half way
  EXPECT_NEAR(c.learning_rate_at(1100), 1e-4, 1e-15);    // the floor at `steps`
  EXPECT_NEAR(c.learning_rate_at(5000), 1e-4, 1e-15);    // and after (a resumed longer run)
  for (int64_t s = 100; s < 1100; ++s) EXPECT_LE(c.learning_rate_at(s + 1), c.learning_rate_at(s));
  c.warmup_steps = 0;
  EXPECT_DOUBLE_EQ(c.learning_rate_at(0), 1e-3);
  c.ema_decay = 0.999;
  EXPECT_DOUBLE_EQ(c.ema_decay_at(0), 0.1);              // (1 + s) / (10 + s) early on
  EXPECT_DOUBLE_EQ(c.ema_decay_at(90), 0.91);
  EXPECT_DOUBLE_EQ(c.ema_decay_at(100000), 0.999);       // capped at ema_decay
}

}  // namespace momu

// Crash-safe training: `momu train-vae` and `momu train-diffusion` (tiny configs, one checkpoint
// per step) are SIGKILLed at several moments (while the first file of a run is written, while a
// checkpoint is written, after random delays), then resumed to the end. After every kill `last`
// is a whole checkpoint (every file loads) or, before the first checkpoint, absent; the final
// weights, the best checkpoint and the metrics equal an uninterrupted run's, bit for bit.
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli/checkpoint_checks.h"
#include "cli/momu_process.h"
#include "core/atomic_file.h"
#include "core/json_file.h"
#include "io/safetensors.h"
#include "test_util.h"
#include "train/metrics_log.h"
#include "train/synthetic_dataset.h"
#include "train/vae_trainer.h"

namespace momu {
namespace {

using test::expect_same_tensors;
using test::expect_whole_checkpoint;

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string json_text(const nlohmann::json& j) { return j.dump(2) + "\n"; }

// When a run is killed.
enum class KillAt {
  kFirstTemporary,     // the first file the run writes (metrics rewrite, latent cache)
  kCheckpointStarts,   // the temporary checkpoint folder appears (the n-th time in this run)
  kCheckpointHalfway,  // its trainer/ part is being written (the n-th checkpoint)
  kRandomDelay,        // a random time after the run began to write (within 30% of the work)
};

struct Kill {
  KillAt at;
  int nth = 1;
};

std::string name_of(const Kill& k) {
  switch (k.at) {
    case KillAt::kFirstTemporary:
      return "first temporary";
    case KillAt::kCheckpointStarts:
      return "checkpoint " + std::to_string(k.nth) + " starts";
    case KillAt::kCheckpointHalfway:
      return "checkpoint " + std::to_string(k.nth) + " halfway";
    default:
      return "random delay";
  }
}

// True once `path` has appeared for the n-th time (polled: it comes and goes once a checkpoint).
std::function<bool()> nth_appearance(const fs::path& path, int n) {
  auto seen = std::make_shared<int>(0);
  auto present = std::make_shared<bool>(false);
  return [=] {
    const bool now = fs::exists(path);
    if (now && !*present) ++*seen;
    *present = now;
    return now && *seen >= n;
  };
}

// Runs `args` + --out out (+ --resume once a checkpoint exists) under the kill schedule, then to
// the end, and checks every checkpoint seen between kills. `work_s`: how long an uninterrupted
// run works after its first write (the random delays are drawn within it).
void train_with_kills(const std::vector<std::string>& args, const fs::path& out, double work_s) {
  std::random_device rd;
  const unsigned seed = rd();
  SCOPED_TRACE("kill schedule seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> delay_s(0.0, 0.3 * work_s);
  const std::vector<Kill> schedule = {
      {KillAt::kFirstTemporary}, {KillAt::kCheckpointStarts, 3},
      {KillAt::kRandomDelay},    {KillAt::kCheckpointHalfway, 2},
      {KillAt::kRandomDelay},    {KillAt::kCheckpointStarts, 2},
  };
  auto command = [&] {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--out", out.string()});
    if (fs::exists(out / "last" / "config.json")) a.push_back("--resume");
    return a;
  };
  bool had_checkpoint = false;
  int kills = 0;
  for (const Kill& k : schedule) {
    SCOPED_TRACE(name_of(k));
    test::MomuProcess p(command());
    const fs::path writing = out / (".last.writing-" + std::to_string(p.pid()));
    auto writes = [&] { return !test::temporaries_of(out, p.pid()).empty(); };
    const milliseconds timeout(60000);
    bool hit = false;
    switch (k.at) {
      case KillAt::kFirstTemporary:
        hit = p.wait_until(writes, timeout);
        break;
      case KillAt::kCheckpointStarts:
        hit = p.wait_until(nth_appearance(writing, k.nth), timeout);
        break;
      case KillAt::kCheckpointHalfway:
        hit = p.wait_until(nth_appearance(writing / "trainer", k.nth), timeout);
        break;
      case KillAt::kRandomDelay: {
        if (!p.wait_until(writes, timeout)) break;
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::duration<double>(delay_s(rng));
        hit = p.wait_until([&] { return std::chrono::steady_clock::now() >= until; }, timeout);
        break;
      }
    }
    if (hit) {
      p.signal(SIGKILL);
      ++kills;
    }
    const test::ExitStatus s = p.wait();
    if (!hit) ASSERT_TRUE(s.exited && s.code == 0) << s.text() << ": " << p.err();
    // `last` is whole, or absent only before the first checkpoint of all.
    if (fs::exists(out / "last")) {
      expect_whole_checkpoint(out / "last");
      had_checkpoint = true;
    } else {
      EXPECT_FALSE(had_checkpoint) << "a checkpoint was there before the kill and is gone";
    }
    if (fs::exists(out / "best")) {
      EXPECT_NO_THROW(load_safetensors(out / "best" / "model.safetensors"));
    }
  }
  EXPECT_GE(kills, 4) << "most kills should land while the run works";
  EXPECT_TRUE(had_checkpoint);
  test::MomuProcess finish(command());
  const test::ExitStatus s = finish.wait();
  ASSERT_TRUE(s.exited && s.code == 0) << s.text() << ": " << finish.err();
  // The checkpoint writes removed the temporary folders of the killed runs.
  for (const auto& name : test::any_temporaries(out)) {
    EXPECT_EQ(name.find(".writing-"), std::string::npos) << name << " was left in " << out;
  }
}

// The uninterrupted run; returns how long it worked after its first write.
double run_straight(const std::vector<std::string>& args, const fs::path& out) {
  std::vector<std::string> a = args;
  a.insert(a.end(), {"--out", out.string()});
  test::MomuProcess p(a);
  p.wait_until([&] { return !test::temporaries_of(out, p.pid()).empty(); }, milliseconds(60000));
  const auto t0 = std::chrono::steady_clock::now();
  const test::ExitStatus s = p.wait();
  EXPECT_TRUE(s.exited && s.code == 0) << s.text() << ": " << p.err();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void expect_same_runs(const fs::path& straight, const fs::path& killed) {
  test::expect_same_tensors(straight / "last" / "model.safetensors",
                      killed / "last" / "model.safetensors");
  test::expect_same_tensors(straight / "last" / "trainer" / "weights.safetensors",
                      killed / "last" / "trainer" / "weights.safetensors");
  test::expect_same_tensors(straight / "best" / "model.safetensors",
                      killed / "best" / "model.safetensors");
  EXPECT_EQ(read_json_file(straight / "last" / "trainer" / "state.json"),
            read_json_file(killed / "last" / "trainer" / "state.json"));
  EXPECT_EQ(test::stable_metrics(straight / "metrics.jsonl"), test::stable_metrics(killed / "metrics.jsonl"));
}

TEST(TrainKill, VaeTrainingSurvivesSigkillAtAnyMoment) {
  test::TempDir tmp;
  const fs::path data = tmp.path() / "data";
  test::write_synthetic_prepared(data);
  // configs/vae_tiny.json with 16 steps and a checkpoint after each.
  nlohmann::json config = read_json_file(test::source_dir() / "configs" / "vae_tiny.json");
  config["music_train"]["steps"] = 16;
  config["music_train"]["checkpoint_every"] = 1;
  config["music_train"]["log_every"] = 1;
  write_bytes_atomically(tmp.path() / "vae.json", json_text(config));
  const std::vector<std::string> args = {
      "--threads", "1",      "-q",          "train-vae", "--stage",
      "music",     "--data", data.string(), "--config",  (tmp.path() / "vae.json").string()};
  const double work_s = run_straight(args, tmp.path() / "straight");
  train_with_kills(args, tmp.path() / "killed", work_s);
  expect_same_runs(tmp.path() / "straight", tmp.path() / "killed");
}

TEST(TrainKill, DiffusionTrainingSurvivesSigkillAtAnyMoment) {
  test::TempDir tmp;
  const fs::path data = tmp.path() / "data";
  test::write_synthetic_prepared(data);
  // The tiny BiCoR-VAE, both stages (in this process: only the diffusion run is killed).
  VaeTrainOptions v;
  v.data_dir = data;
  v.config = load_vae_run_config(test::source_dir() / "configs" / "vae_tiny.json");
  v.stage = "music";
  v.out_dir = tmp.path() / "vae_music";
  train_vae(v);
  v.stage = "motion";
  v.out_dir = tmp.path() / "vae_motion";
  v.music_checkpoint = tmp.path() / "vae_music" / "last";
  train_vae(v);
  nlohmann::json config = read_json_file(test::source_dir() / "configs" / "diffusion_tiny.json");
  config["train"]["steps"] = 16;
  config["train"]["checkpoint_every"] = 1;
  config["train"]["log_every"] = 1;
  write_bytes_atomically(tmp.path() / "diffusion.json", json_text(config));
  const std::vector<std::string> args = {
      "--threads",   "1",
      "-q",          "train-diffusion",
      "--direction", "music2motion",
      "--vae",       (tmp.path() / "vae_motion" / "last").string(),
      "--data",      data.string(),
      "--config",    (tmp.path() / "diffusion.json").string()};
  const double work_s = run_straight(args, tmp.path() / "straight");
  train_with_kills(args, tmp.path() / "killed", work_s);
  expect_same_runs(tmp.path() / "straight", tmp.path() / "killed");
  test::expect_same_tensors(tmp.path() / "straight" / "latents.safetensors",
                      tmp.path() / "killed" / "latents.safetensors");
}

}  // namespace
}  // namespace momu

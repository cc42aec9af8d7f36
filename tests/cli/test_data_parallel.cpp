// Data-parallel training (issue 17) with the real `momu` binary on loopback: two processes
// (ranks) with batch B give the weights of one process with batch 2B (float tolerance), for
// train-diffusion and train-vae --stage music; rank 1 never writes into a run folder; a 2-rank run
// stopped and resumed equals an uninterrupted one bit for bit; resuming with another world size is
// refused; the VAE motion stage trains with rank 1 placed by torchrun's variables; a killed rank
// ends the other with a clear error and leaves last/ whole.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
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
using Args = std::vector<std::string>;

// A TCP port free on 127.0.0.1 right now (bound to port 0, then released).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

Args with(Args a, const Args& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// `args` as ranks 0 .. world-1 of one run (rank r's --out: outs[r]); every rank must exit 0.
void run_ranks(const Args& args, const std::vector<fs::path>& outs) {
  const std::string master = "127.0.0.1:" + std::to_string(free_port());
  const int world = static_cast<int>(outs.size());
  std::vector<std::unique_ptr<test::MomuProcess>> ranks;
  for (int r = 0; r < world; ++r) {
    ranks.push_back(std::make_unique<test::MomuProcess>(
        with(args, {"--out", outs[r].string(), "--world-size", std::to_string(world), "--rank",
                    std::to_string(r), "--master", master})));
  }
  for (int r = 0; r < world; ++r) {
    const test::ExitStatus s = ranks[r]->wait();
    EXPECT_TRUE(s.exited && s.code == 0)
        << "rank " << r << ": " << s.text() << ": " << ranks[r]->err();
  }
}

void run_single(const Args& args, const fs::path& out) {
  test::MomuProcess p(with(args, {"--out", out.string()}));
  const test::ExitStatus s = p.wait();
  EXPECT_TRUE(s.exited && s.code == 0) << s.text() << ": " << p.err();
}

// The largest |a - b| over the tensors of two safetensors files, each pair checked against
// atol + rtol * |b|.
double max_difference(const fs::path& a, const fs::path& b, double atol = 1e-5,
                      double rtol = 1e-4) {
  SCOPED_TRACE(b.string());
  const auto fa = load_safetensors(a), fb = load_safetensors(b);
  EXPECT_EQ(fa.tensors.size(), fb.tensors.size());
  double most = 0.0;
  for (const auto& [name, t] : fa.tensors) {
    if (!fb.tensors.count(name)) {
      ADD_FAILURE() << name << " missing";
      continue;
    }
    const at::Tensor x = t.to(torch::kFloat64), y = fb.tensors.at(name).to(torch::kFloat64);
    most = std::max(most, (x - y).abs().max().item<double>());
    EXPECT_TRUE(torch::allclose(x, y, rtol, atol))
        << name << " differs by " << (x - y).abs().max().item<double>();
  }
  return most;
}

// The train records' losses of two runs agree to float tolerance.
void expect_same_losses(const fs::path& a, const fs::path& b) {
  std::vector<double> la, lb;
  for (const auto& j : read_metrics(a)) {
    if (j.at("split") == "train") la.push_back(j.at("loss").get<double>());
  }
  for (const auto& j : read_metrics(b)) {
    if (j.at("split") == "train") lb.push_back(j.at("loss").get<double>());
  }
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i)
    EXPECT_NEAR(la[i], lb[i], 1e-5 * std::max(1.0, std::abs(la[i])));
}

// A synthetic prepared folder, the tiny BiCoR-VAE (both stages, trained in this process once) and
// run configs with a per-rank batch of 2 and twice that for the single process.
class DataParallel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new test::TempDir;
    const fs::path data = root_->path() / "data";
    test::write_synthetic_prepared(data);
    VaeTrainOptions v;
    v.data_dir = data;
    v.config = load_vae_run_config(test::source_dir() / "configs" / "vae_tiny.json");
    v.stage = "music";
    v.out_dir = root_->path() / "vae_music";
    train_vae(v);
    v.stage = "motion";
    v.out_dir = root_->path() / "vae_motion";
    v.music_checkpoint = root_->path() / "vae_music" / "last";
    train_vae(v);
    for (int batch : {2, 4}) {
      nlohmann::json d = read_json_file(test::source_dir() / "configs" / "diffusion_tiny.json");
      d["train"]["batch_size"] = batch;
      write_bytes_atomically(config("diffusion", batch), d.dump(2) + "\n");
      d["condition"] = "clock";  // the clock groups' own dropouts, tempo-stretched entries
      d["tempo_stretch"] = {1.0, 1.1};
      write_bytes_atomically(config("clock", batch), d.dump(2) + "\n");
      nlohmann::json m = read_json_file(test::source_dir() / "configs" / "vae_tiny.json");
      m["music_train"]["batch_size"] = batch;
      write_bytes_atomically(config("vae", batch), m.dump(2) + "\n");
    }
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }
  static fs::path config(const std::string& kind, int batch) {
    return root_->path() / (kind + "_b" + std::to_string(batch) + ".json");
  }
  static Args diffusion_args(int batch, const std::string& kind = "diffusion") {
    return {"--threads",   "1",
            "-q",          "train-diffusion",
            "--direction", "music2motion",
            "--vae",       (root_->path() / "vae_motion" / "last").string(),
            "--data",      (root_->path() / "data").string(),
            "--config",    config(kind, batch).string()};
  }
  static Args vae_args(int batch) {
    return {"--threads", "1",
            "-q",        "train-vae",
            "--stage",   "music",
            "--data",    (root_->path() / "data").string(),
            "--config",  config("vae", batch).string()};
  }

  static test::TempDir* root_;
  test::TempDir tmp_;
};

test::TempDir* DataParallel::root_ = nullptr;

TEST_F(DataParallel, TwoDiffusionRanksFollowOneProcessWithTwiceTheBatch) {
  for (const std::string kind : {"diffusion", "clock"}) {
    SCOPED_TRACE(kind);
    const fs::path one = tmp_.path() / (kind + "_one"), two = tmp_.path() / (kind + "_two"),
                   rank1 = tmp_.path() / (kind + "_rank1");
    run_single(diffusion_args(4, kind), one);
    run_ranks(diffusion_args(2, kind), {two, rank1});
    const double model =
        max_difference(one / "last" / "model.safetensors", two / "last" / "model.safetensors");
    const double raw = max_difference(one / "last" / "trainer" / "weights.safetensors",
                                      two / "last" / "trainer" / "weights.safetensors");
    std::printf(
        "[ %s ] 2 ranks x batch 2 vs 1 x batch 4, 4 steps: max |diff| %.3g (EMA), %.3g (raw)\n",
        kind.c_str(), model, raw);
    expect_same_losses(one / "metrics.jsonl", two / "metrics.jsonl");
    EXPECT_FALSE(fs::exists(rank1)) << "rank 1 created its --out folder";
    EXPECT_EQ(read_json_file(two / "last" / "trainer" / "state.json").at("world_size"), 2);
  }
}

TEST_F(DataParallel, TwoVaeRanksFollowOneProcessWithTwiceTheBatch) {
  const fs::path one = tmp_.path() / "one", two = tmp_.path() / "two",
                 rank1 = tmp_.path() / "rank1";
  run_single(vae_args(4), one);
  run_ranks(vae_args(2), {two, rank1});
  const double model =
      max_difference(one / "last" / "model.safetensors", two / "last" / "model.safetensors");
  const double raw = max_difference(one / "last" / "trainer" / "weights.safetensors",
                                    two / "last" / "trainer" / "weights.safetensors");
  std::printf(
      "[ vae music ] 2 ranks x batch 2 vs 1 x batch 4, 4 steps: max |diff| %.3g (EMA), %.3g "
      "(raw)\n",
      model, raw);
  expect_same_losses(one / "metrics.jsonl", two / "metrics.jsonl");
  EXPECT_FALSE(fs::exists(rank1)) << "rank 1 created its --out folder";
}

// The motion stage (its contrastive loss over each rank's own crops) with rank 1 placed by
// torchrun's variables instead of the options.
TEST_F(DataParallel, MotionStageRanksTrainWithTorchrunVariables) {
  const fs::path out = tmp_.path() / "motion";
  const int port = free_port();
  const Args args = {"--threads",   "1",
                     "-q",          "train-vae",
                     "--stage",     "motion",
                     "--data",      (root_->path() / "data").string(),
                     "--config",    config("vae", 2).string(),
                     "--music-vae", (root_->path() / "vae_music" / "last").string(),
                     "--out",       out.string()};
  test::MomuProcess r0(with(
      args, {"--world-size", "2", "--rank", "0", "--master", "127.0.0.1:" + std::to_string(port)}));
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "1", 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  test::MomuProcess r1(args);
  for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(v);
  for (auto* p : {&r0, &r1}) {
    const test::ExitStatus s = p->wait();
    EXPECT_TRUE(s.exited && s.code == 0) << s.text() << ": " << p->err();
  }
  const auto metrics = read_metrics(out / "metrics.jsonl");
  ASSERT_FALSE(metrics.empty());
  EXPECT_TRUE(metrics.front().contains("contrastive")) << metrics.front().dump();
  EXPECT_EQ(read_json_file(out / "last" / "trainer" / "state.json").at("world_size"), 2);
}

TEST_F(DataParallel, ResumedTwoRankRunEqualsAnUninterruptedOneAndKeepsItsWorldSize) {
  const fs::path straight = tmp_.path() / "straight", split = tmp_.path() / "split";
  run_ranks(diffusion_args(2), {straight, straight});
  run_ranks(with(diffusion_args(2), {"--stop-after", "2"}), {split, split});
  EXPECT_EQ(read_json_file(split / "last" / "trainer" / "state.json").at("step"), 2);
  // One process cannot take over a 2-rank checkpoint: exit 5 (configuration), nothing changed.
  {
    test::MomuProcess p(with(diffusion_args(2), {"--out", split.string(), "--resume"}));
    const test::ExitStatus s = p.wait();
    EXPECT_TRUE(s.exited && s.code == 5) << s.text() << ": " << p.err();
    EXPECT_NE(p.err().find("world size"), std::string::npos) << p.err();
    EXPECT_EQ(read_json_file(split / "last" / "trainer" / "state.json").at("step"), 2);
  }
  run_ranks(with(diffusion_args(2), {"--resume"}), {split, split});
  expect_same_tensors(straight / "last" / "model.safetensors",
                      split / "last" / "model.safetensors");
  expect_same_tensors(straight / "last" / "trainer" / "weights.safetensors",
                      split / "last" / "trainer" / "weights.safetensors");
  // A single-process checkpoint is not resumed by two ranks either.
  const fs::path single = tmp_.path() / "single";
  run_single(with(diffusion_args(4), {"--stop-after", "2"}), single);
  const std::string master = "127.0.0.1:" + std::to_string(free_port());
  test::MomuProcess r0(
      with(diffusion_args(2), {"--out", single.string(), "--resume", "--world-size", "2", "--rank",
                               "0", "--master", master}));
  test::MomuProcess r1(
      with(diffusion_args(2), {"--out", single.string(), "--resume", "--world-size", "2", "--rank",
                               "1", "--master", master}));
  for (auto* p : {&r0, &r1}) {
    const test::ExitStatus s = p->wait();
    EXPECT_TRUE(s.exited && s.code == 5) << s.text() << ": " << p->err();
  }
}

// Runs two ranks of a long diffusion run, kills rank `victim` once rank 0 has written a checkpoint
// and checks that the other rank ends with the lost-contact error within a minute.
void kill_one_rank(const Args& args, const fs::path& out, int victim) {
  SCOPED_TRACE("killing rank " + std::to_string(victim));
  const std::string master = "127.0.0.1:" + std::to_string(free_port());
  auto rank = [&](int r) {
    return std::make_unique<test::MomuProcess>(
        with(args, {"--out", out.string(), "--world-size", "2", "--rank", std::to_string(r),
                    "--master", master}));
  };
  auto r0 = rank(0), r1 = rank(1);
  test::MomuProcess& killed = victim == 0 ? *r0 : *r1;
  test::MomuProcess& survivor = victim == 0 ? *r1 : *r0;
  ASSERT_TRUE(killed.wait_until([&] { return fs::exists(out / "last" / "config.json"); },
                                milliseconds(90000)))
      << "no checkpoint: " << r0->err();
  killed.signal(SIGKILL);
  killed.wait();
  const auto t0 = std::chrono::steady_clock::now();
  const bool ended =
      survivor.wait_until([] { return false; }, milliseconds(60000)) || !survivor.running();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(ended) << "the other rank still runs a minute after the kill";
  const test::ExitStatus s = survivor.wait();
  std::printf("[ kill ] rank %d killed: the other ended after %.2f s (%s): %s", victim, waited,
              s.text().c_str(), survivor.err().c_str());
  EXPECT_TRUE(s.exited && s.code != 0) << s.text();
  EXPECT_NE(survivor.err().find("lost contact with the other ranks"), std::string::npos)
      << survivor.err();
  expect_whole_checkpoint(out / "last");
}

TEST_F(DataParallel, AKilledRankEndsTheOtherWithAClearError) {
  nlohmann::json d = read_json_file(config("diffusion", 2));
  d["train"]["steps"] = 100000;  // far more than the test waits for
  d["train"]["checkpoint_every"] = 2;
  d["train"]["validate_every"] = 100000;
  const fs::path long_config = tmp_.path() / "long.json";
  write_bytes_atomically(long_config, d.dump(2) + "\n");
  Args args = diffusion_args(2);
  *std::find(args.begin(), args.end(), config("diffusion", 2).string()) = long_config.string();
  kill_one_rank(args, tmp_.path() / "kill1", 1);
  kill_one_rank(args, tmp_.path() / "kill0", 0);
}

TEST_F(DataParallel, OptionsAreCheckedWhenParsed) {
  const std::string base = "-q train-vae --stage music --data x --config y --out " +
                           (tmp_.path() / "out").string() + " ";
  for (const auto& [args, option] :
       std::vector<std::pair<std::string, std::string>>{{"--world-size 0", "--world-size"},
                                                        {"--world-size 100000", "--world-size"},
                                                        {"--rank -1", "--rank"},
                                                        {"--world-size 2 --rank 2", "--rank"},
                                                        {"--master 127.0.0.1", "--master"},
                                                        {"--master 127.0.0.1:0", "--master"},
                                                        {"--master 127.0.0.1:70000", "--master"},
                                                        {"--dist-timeout 0", "--dist-timeout"},
                                                        {"--dist-timeout nan", "--dist-timeout"}}) {
    SCOPED_TRACE(args);
    const auto r = test::run_momu(base + args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(option), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(tmp_.path() / "out"));
}

TEST_F(DataParallel, ARankThatNeverComesEndsTheOthersAfterDistTimeout) {
  // Rank 1 never starts: rank 0 waits at the rendezvous for --dist-timeout, then says so.
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = test::run_momu(
      "-q train-vae --stage music --data " + (tmp_.path() / "nodata").string() + " --config " +
      std::string(MOMU_SOURCE_DIR) + "/configs/vae_tiny.json --out " + (tmp_.path() / "alone").string() +
      " --world-size 2 --rank 0 --dist-timeout 2 --master 127.0.0.1:" + std::to_string(free_port()));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_LT(waited, 60.0) << r.err;
  EXPECT_NE(r.err.find("rank 0 of 2"), std::string::npos) << r.err;
  std::printf("[ timeout ] a lone rank 0 ended after %.1f s: %s", waited, r.err.c_str());
}

}  // namespace
}  // namespace momu

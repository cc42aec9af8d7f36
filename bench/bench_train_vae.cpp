// BiCoR-VAE training speed with the base configuration (configs/vae_base.json): one optimizer
// step (forward, backward, AdamW) on a batch of batch_size x segment_frames random frames.
// Counters: samples_per_s, frames_per_s (input frames at 62.5 fps), gflops (achieved, from the
// analytic count of src/model/vae_flops.h, training = 3 x forward; the motion stage adds
// the frozen music encoder's forward), peak_gflops (this machine's fp32 matrix-multiply rate,
// measured in the same run), efficiency = gflops / peak_gflops, and base_schedule_min: minutes
// for the stage's steps at this speed.
// Run: build/bench_train_vae [--benchmark_format=json]   (threads: all cores)
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "model/conv_vae.h"
#include "model/rhythm_contrastive.h"
#include "model/vae_flops.h"
#include "momu/core/runtime.h"
#include "momu_paths.h"
#include "train/vae_trainer.h"

namespace {

double peak_gflops() {
  static const double peak = momu::measure_matmul_gflops(1024, 1.0);
  return peak;
}

momu::VaeRunConfig base_config() {
  auto c = momu::load_vae_run_config(std::filesystem::path(MOMU_SOURCE_DIR) / "configs" / "vae_base.json");
  c.motion_vae.in_channels = 23 * 3 + 3;  // dwm23 features
  return c;
}

void report(benchmark::State& state, const momu::TrainConfig& t, double flops_per_step,
            int64_t steps_done) {
  const double peak = peak_gflops();
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(steps_done * t.batch_size),
                                                       benchmark::Counter::kIsRate);
  state.counters["frames_per_s"] = benchmark::Counter(
      static_cast<double>(steps_done * t.batch_size * t.segment_frames), benchmark::Counter::kIsRate);
  state.counters["gflops"] = benchmark::Counter(flops_per_step * steps_done / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak_gflops"] = peak;
  state.counters["base_steps"] = static_cast<double>(t.steps);
}

void BM_MusicVaeTrainStep(benchmark::State& state) {
  momu::configure_threads(0);
  const auto cfg = base_config();
  const auto& t = cfg.music_train;
  torch::manual_seed(0);
  momu::ConvVae vae(cfg.music_vae);
  torch::optim::AdamW opt(vae->parameters(), torch::optim::AdamWOptions(1e-4));
  auto x = torch::randn({t.batch_size, cfg.music_vae.in_channels, t.segment_frames});
  auto noise = torch::randn({t.batch_size, cfg.music_vae.latent_channels, t.segment_frames / 2});
  const double fwd = t.batch_size * (momu::conv_vae_encoder_flops(cfg.music_vae, t.segment_frames) +
                                     momu::conv_vae_decoder_flops(cfg.music_vae, t.segment_frames));
  int64_t steps = 0;
  for (auto _ : state) {
    opt.zero_grad();
    auto post = vae->encode(x);
    auto rec = vae->decode(post.mean + (0.5 * post.logvar).exp() * noise);
    auto loss = (rec - x).abs().mean() + 1e-4 * post.mean.pow(2).mean();
    loss.backward();
    opt.step();
    ++steps;
  }
  report(state, t, 3.0 * fwd, steps);
}
BENCHMARK(BM_MusicVaeTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(10.0);

void BM_MotionVaeTrainStep(benchmark::State& state) {
  momu::configure_threads(0);
  const auto cfg = base_config();
  const auto& t = cfg.motion_train;
  torch::manual_seed(0);
  momu::ConvVae music(cfg.music_vae), motion(cfg.motion_vae);
  for (auto& p : music->parameters()) p.set_requires_grad(false);
  music->eval();
  torch::optim::AdamW opt(motion->parameters(), torch::optim::AdamWOptions(1e-4));
  auto mel = torch::randn({t.batch_size, cfg.music_vae.in_channels, t.segment_frames});
  auto x = torch::randn({t.batch_size, cfg.motion_vae.in_channels, t.segment_frames});
  auto q = torch::rand({t.batch_size, t.segment_frames});
  auto noise = torch::randn({t.batch_size, cfg.motion_vae.latent_channels, t.segment_frames / 2});
  const double fwd = t.batch_size * (momu::conv_vae_encoder_flops(cfg.motion_vae, t.segment_frames) +
                                     momu::conv_vae_decoder_flops(cfg.motion_vae, t.segment_frames));
  const double frozen = t.batch_size * momu::conv_vae_encoder_flops(cfg.music_vae, t.segment_frames);
  int64_t steps = 0;
  for (auto _ : state) {
    opt.zero_grad();
    at::Tensor za;
    {
      torch::NoGradGuard ng;
      za = music->encode(mel).mean;
    }
    auto post = motion->encode(x);
    auto rec = motion->decode(post.mean + (0.5 * post.logvar).exp() * noise);
    auto w = momu::select_rhythm_windows(q, za.size(2), 2, cfg.contrastive);
    auto c = momu::rhythm_contrastive_loss(momu::pool_windows(za, w, cfg.contrastive.window),
                                           momu::pool_windows(post.mean, w, cfg.contrastive.window),
                                           cfg.contrastive.temperature);
    auto loss = (rec - x).abs().mean() + t.lambda_c * c.loss;
    loss.backward();
    opt.step();
    ++steps;
  }
  report(state, t, 3.0 * fwd + frozen, steps);
}
BENCHMARK(BM_MotionVaeTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(10.0);

}  // namespace

BENCHMARK_MAIN();

// The C++ half of the PyTorch anchor (bench/torch_reference.py is the Python half, and
// bench/compare_torch.sh runs both in one go on the same machine and threads): loads a diffusion
// expert of a model folder, runs its denoiser on seeded inputs shaped as the sampler calls it (one
// batch of 8 windows x 256 latent frames, half of them with the null condition) and one training
// step (forward, MSE on the noise, backward, AdamW) on a seeded batch of 16 x 512 latent frames,
// writes the inputs and outputs to --io (safetensors) for the Python half to compare, and prints
// one JSON line: the matmul peak, the denoiser call (ms, GFLOP/s) and the training step (ms).
//
// Run: build/bench_torch_parity [--model models/default] [--expert music2motion]
//                               [--io out/torch_parity.safetensors] [--threads N]
//                               [--repeats 20] [--train-steps 5]
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "diffusion/diffusion_expert.h"
#include "io/safetensors.h"
#include "model/denoiser.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"
#include "momu_paths.h"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Args {
  std::filesystem::path model = std::filesystem::path(MOMU_SOURCE_DIR) / "models" / "default";
  std::string expert = "music2motion";
  std::filesystem::path io = "out/torch_parity.safetensors";
  int threads = 0, repeats = 20, train_steps = 5;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) throw momu::ConfigError("bench_torch_parity: " + k + " needs a value");
    const std::string v = argv[++i];
    if (k == "--model") a.model = v;
    else if (k == "--expert") a.expert = v;
    else if (k == "--io") a.io = v;
    else if (k == "--threads") a.threads = std::stoi(v);
    else if (k == "--repeats") a.repeats = std::stoi(v);
    else if (k == "--train-steps") a.train_steps = std::stoi(v);
    else throw momu::ConfigError("bench_torch_parity: unknown option " + k);
  }
  if (a.expert != "music2motion" && a.expert != "motion2music") {
    throw momu::ConfigError("bench_torch_parity: --expert is music2motion or motion2music");
  }
  if (a.repeats < 1 || a.train_steps < 1) throw momu::ConfigError("bench_torch_parity: counts must be >= 1");
  return a;
}

// Noisy latents of a batch: z_t = sqrt(abar_t) z0 + sqrt(1 - abar_t) noise. z0, noise: [B, d, L]
at::Tensor q_sample(const momu::NoiseSchedule& s, const at::Tensor& z0, const at::Tensor& noise,
                    const at::Tensor& t) {
  std::vector<float> a(t.size(0)), b(t.size(0));
  for (int64_t i = 0; i < t.size(0); ++i) {
    const double ab = s.alpha_bar(t[i].item<int64_t>());
    a[i] = static_cast<float>(std::sqrt(ab));
    b[i] = static_cast<float>(std::sqrt(1.0 - ab));
  }
  auto ta = torch::tensor(a).view({-1, 1, 1}), tb = torch::tensor(b).view({-1, 1, 1});
  return ta * z0 + tb * noise;
}

int run(const Args& args) {
  const int threads = momu::configure_threads(args.threads);
  nlohmann::json out{{"impl", "momu-c++"}, {"threads", threads}, {"torch", TORCH_VERSION}};
  out["matmul_gflops"] = momu::measure_matmul_gflops();
  momu::DiffusionExpert expert = momu::DiffusionExpert::load(args.model / args.expert);
  momu::Denoiser net = expert.denoiser();
  const auto& dc = expert.spec().denoiser;
  std::map<std::string, at::Tensor> io;

  // Inference: one sampler window batch, the first half conditioned, the second with the null.
  torch::manual_seed(1234);
  const int64_t b = 8, l = 256;
  auto z = torch::randn({b, dc.latent_channels, l});
  auto cond = torch::randn({b, dc.cond_channels, l});
  auto t = torch::randint(0, expert.schedule().timesteps(), {b}, torch::kInt64);
  auto keep = torch::cat({torch::ones({b / 2}), torch::zeros({b - b / 2})});
  at::Tensor eps;
  {
    torch::NoGradGuard no_grad;
    net->eval();
    eps = net->forward(z, t, cond, keep);
    net->forward(z, t, cond, keep);  // warm-up
    const auto t0 = Clock::now();
    for (int i = 0; i < args.repeats; ++i) net->forward(z, t, cond, keep);
    const double s = since(t0) / args.repeats;
    out["denoiser_call_ms"] = 1e3 * s;
    out["denoiser_gflops"] = momu::denoiser_flops(dc, l) * b / s / 1e9;
  }
  io["infer.z"] = z;
  io["infer.t"] = t;
  io["infer.cond"] = cond;
  io["infer.keep"] = keep;
  io["infer.eps"] = eps;

  // Training: the loss and gradient norm of the loaded weights on one seeded batch, then the
  // time of whole optimizer steps (forward, loss, backward, AdamW), with the allocator set as
  // `momu train-*` sets it.
  momu::configure_allocator(momu::kTrainingHeapBlockMiB);
  net->train();
  for (auto& p : net->parameters()) p.set_requires_grad(true);
  const int64_t tb = 16, tl = 512;
  auto z0 = torch::randn({tb, dc.latent_channels, tl});
  auto noise = torch::randn({tb, dc.latent_channels, tl});
  auto tt = torch::randint(0, expert.schedule().timesteps(), {tb}, torch::kInt64);
  auto tcond = torch::randn({tb, dc.cond_channels, tl});
  auto tkeep = (torch::rand({tb}) > 0.1).to(torch::kFloat32);
  auto zt = q_sample(expert.schedule(), z0, noise, tt);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(3e-4).weight_decay(0.01));
  auto step = [&] {
    opt.zero_grad();
    auto loss = torch::mse_loss(net->forward(zt, tt, tcond, tkeep), noise);
    loss.backward();
    return loss;
  };
  const auto loss = step().detach();
  double sq = 0.0;
  for (const auto& p : net->parameters()) sq += p.grad().pow(2).sum().item<double>();
  io["train.zt"] = zt;
  io["train.t"] = tt;
  io["train.cond"] = tcond;
  io["train.keep"] = tkeep;
  io["train.noise"] = noise;
  io["train.loss"] = loss.reshape({1});
  io["train.grad_norm"] = torch::tensor({std::sqrt(sq)}, torch::kFloat64);
  opt.step();
  const auto t0 = Clock::now();
  for (int i = 0; i < args.train_steps; ++i) {
    step();
    opt.step();
  }
  out["train_step_ms"] = 1e3 * since(t0) / args.train_steps;
  out["train_batch"] = {tb, dc.latent_channels, tl};
  out["infer_batch"] = {b, dc.latent_channels, l};
  out["loss"] = loss.item<double>();
  out["grad_norm"] = std::sqrt(sq);
  out["expert"] = (args.model / args.expert).string();
  std::filesystem::create_directories(std::filesystem::absolute(args.io).parent_path());
  momu::save_safetensors(args.io, io, {{"expert", (args.model / args.expert).string()}});
  out["io"] = args.io.string();
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  momu::configure_allocator();  // as the momu program does (tools/main.cpp)
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "bench_torch_parity: error: " << e.what() << std::endl;
    return 1;
  }
}

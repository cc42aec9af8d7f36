// CPU/CUDA parity of the BiCoR-VAE pieces. Skips with a message on a machine without CUDA (CI);
// run on a GPU machine (scripts/device_build.sh, then ctest -R Cuda).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "diffusion/sampler.h"
#include "model/conv_vae.h"
#include "model/denoiser.h"
#include "model/module_weights.h"
#include "model/rhythm_contrastive.h"
#include "test_util.h"
#include "train/synthetic_dataset.h"
#include "train/vae_trainer.h"

namespace momu {
namespace {

#define MOMU_REQUIRE_CUDA()                                                       \
  do {                                                                            \
    if (!torch::cuda::is_available()) {                                           \
      GTEST_SKIP() << "skipped: no CUDA device (CPU/GPU parity runs on a GPU machine)"; \
    }                                                                             \
  } while (0)

TEST(CudaParity, DenoiserAndSamplerMatchTheCpu) {
  MOMU_REQUIRE_CUDA();
  torch::manual_seed(1);
  DenoiserConfig c;
  c.latent_channels = 4;
  c.cond_channels = 4;
  c.hidden = 64;
  c.depth = 2;
  c.heads = 2;
  Denoiser cpu(c), gpu(c);
  // Non-zero output layers, so the comparison is not of zeros.
  for (auto& p : cpu->parameters()) {
    torch::NoGradGuard g;
    p.add_(torch::randn_like(p) * 0.02);
  }
  load_module_tensors(*gpu, module_tensors(*cpu, ""), "", "parity");
  gpu->to(torch::kCUDA);
  auto z = torch::randn({2, 4, 40}), cond = torch::randn({2, 4, 40});
  auto t = torch::tensor({3, 700}, torch::kInt64);
  auto ec = cpu->forward(z, t, cond);
  auto eg = gpu->forward(z.cuda(), t.cuda(), cond.cuda());
  EXPECT_LT((ec - eg.cpu()).abs().max().item<double>(), 1e-3);
  // The same seed gives the same sample on both devices (noise is drawn on the CPU).
  ScheduleConfig sc;
  sc.timesteps = 50;
  NoiseSchedule schedule(sc);
  SamplerConfig s;
  s.steps = 10;
  s.window = 16;
  s.overlap = 4;
  auto eps_of = [](Denoiser d) {
    return [d](const at::Tensor& zz, const at::Tensor& tt, const at::Tensor& cc) mutable {
      torch::NoGradGuard g;
      return d->forward(zz, tt, cc);
    };
  };
  auto xc = sample_conditional(eps_of(cpu), schedule, 4, cond[0], 0, s);
  auto xg = sample_conditional(eps_of(gpu), schedule, 4, cond[0].cuda(), 0, s);
  EXPECT_LT((xc - xg.cpu()).abs().max().item<double>(), 1e-2);
}

TEST(CudaParity, ConvVaeEncodeDecodeMatchesTheCpu) {
  MOMU_REQUIRE_CUDA();
  torch::manual_seed(0);
  VaeConfig c;
  c.base_channels = 32;
  c.channel_mult = {1, 2};
  c.norm_groups = 8;
  ConvVae cpu(c), gpu(c);
  load_module_tensors(*gpu, module_tensors(*cpu, ""), "", "parity");
  gpu->to(torch::kCUDA);
  auto x = torch::randn({2, 80, 256});
  auto pc = cpu->encode(x);
  auto pg = gpu->encode(x.cuda());
  EXPECT_LT((pc.mean - pg.mean.cpu()).abs().max().item<double>(), 1e-3);
  auto rc = cpu->decode(pc.mean);
  auto rg = gpu->decode(pc.mean.cuda());
  EXPECT_LT((rc - rg.cpu()).abs().max().item<double>(), 1e-3);
}

TEST(CudaParity, ContrastiveLossMatchesTheCpu) {
  MOMU_REQUIRE_CUDA();
  torch::manual_seed(1);
  auto a = torch::randn({64, 20}), m = torch::randn({64, 20});
  const double lc = rhythm_contrastive_loss(a, m, 0.07).loss.item<double>();
  const double lg = rhythm_contrastive_loss(a.cuda(), m.cuda(), 0.07).loss.item<double>();
  EXPECT_NEAR(lc, lg, 1e-4 * std::abs(lc));
  auto q = torch::rand({3, 128});
  ContrastiveConfig cc;
  cc.windows_per_clip = 4;
  EXPECT_TRUE(torch::equal(select_rhythm_windows(q, 64, 2, cc),
                           select_rhythm_windows(q.cuda(), 64, 2, cc).cpu()));
}

TEST(CudaParity, TinyTrainingRunsOnTheGpu) {
  MOMU_REQUIRE_CUDA();
  test::TempDir tmp;
  test::write_synthetic_prepared(tmp.path() / "data");
  VaeTrainOptions o;
  o.stage = "music";
  o.data_dir = tmp.path() / "data";
  o.out_dir = tmp.path() / "run";
  o.config = load_vae_run_config(test::source_dir() / "configs" / "vae_tiny.json");
  o.device = "cuda";
  auto r = train_vae(o);
  EXPECT_EQ(r.step, 4);
  // Resume on the CPU from a GPU checkpoint.
  o.device = "cpu";
  o.resume = true;
  o.config.music_train.steps = 6;
  EXPECT_EQ(train_vae(o).step, 6);
}

}  // namespace
}  // namespace momu

// BiCoR-VAE branch module: shapes, shape and config errors, gradients, overfitting one batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "model/conv_vae.h"
#include "model/module_weights.h"
#include "momu/core/error.h"

namespace momu {
namespace {

VaeConfig tiny(int in = 80) {
  VaeConfig c;
  c.in_channels = in;
  c.latent_channels = 8;
  c.base_channels = 16;
  c.channel_mult = {1, 2};
  c.blocks_per_level = 1;
  c.attention_heads = 2;
  c.norm_groups = 4;
  return c;
}

TEST(ConvVae, ShapesFollowTheTimeCompression) {
  torch::manual_seed(0);
  ConvVae vae(tiny());
  auto x = torch::randn({3, 80, 64});
  auto post = vae->encode(x);
  EXPECT_EQ(post.mean.sizes(), (std::vector<int64_t>{3, 8, 32}));
  EXPECT_EQ(post.logvar.sizes(), (std::vector<int64_t>{3, 8, 32}));
  EXPECT_EQ(vae->decode(post.mean).sizes(), x.sizes());
  VaeConfig two = tiny();
  two.num_downsamples = 2;
  ConvVae vae2(two);
  EXPECT_EQ(vae2->encode(x).mean.size(2), 16);
  EXPECT_EQ(vae2->decode(torch::randn({1, 8, 5})).size(2), 20);
}

TEST(ConvVae, WrongShapesAreShapeErrors) {
  ConvVae vae(tiny());
  EXPECT_THROW(vae->encode(torch::randn({1, 79, 64})), ShapeError);  // channels
  EXPECT_THROW(vae->encode(torch::randn({1, 80, 63})), ShapeError);  // odd length
  EXPECT_THROW(vae->encode(torch::randn({80, 64})), ShapeError);     // no batch
  EXPECT_THROW(vae->decode(torch::randn({1, 7, 10})), ShapeError);   // latent width
  EXPECT_THROW(vae->decode(at::Tensor()), ShapeError);
}

TEST(VaeConfig, ValidationAndStrictJson) {
  VaeConfig c = tiny();
  nlohmann::json j = c;
  EXPECT_EQ(j.get<VaeConfig>().base_channels, 16);
  EXPECT_EQ(nlohmann::json(j.get<VaeConfig>()), j);
  j["base_chanels"] = 3;  // typo
  EXPECT_THROW(j.get<VaeConfig>(), ConfigError);
  c.norm_groups = 5;  // 16 not divisible
  EXPECT_THROW(c.validate(), ConfigError);
  c = tiny();
  c.attention_heads = 3;
  EXPECT_THROW(c.validate(), ConfigError);
  c = tiny();
  c.modality = "video";
  EXPECT_THROW(c.validate(), ConfigError);
  c = tiny(0);
  EXPECT_NO_THROW(c.validate());              // 0: from the data
  EXPECT_THROW(ConvVae{c}, ConfigError);      // but a model needs it
}

// Central finite differences against autograd, in float64, for inputs and parameters.
TEST(ConvVae, GradientsMatchFiniteDifferences) {
  torch::manual_seed(1);
  ConvVae vae(tiny(6));
  vae->to(torch::kFloat64);
  auto x = torch::randn({2, 6, 16}, torch::kFloat64).requires_grad_(true);
  auto loss_of = [&](const at::Tensor& in) {
    auto post = vae->encode(in);
    auto rec = vae->decode(post.mean + 0.3 * post.logvar);
    return (rec - in).pow(2).mean() + 0.1 * post.mean.pow(2).mean();
  };
  auto loss = loss_of(x);
  loss.backward();
  const double eps = 1e-6;
  torch::NoGradGuard no_grad;
  for (int64_t idx : {0, 37, 150}) {
    auto xp = x.detach().clone(), xm = x.detach().clone();
    xp.view(-1)[idx] += eps;
    xm.view(-1)[idx] -= eps;
    const double fd = (loss_of(xp).item<double>() - loss_of(xm).item<double>()) / (2 * eps);
    EXPECT_NEAR(x.grad().view(-1)[idx].item<double>(), fd, 1e-6 + 1e-4 * std::abs(fd)) << idx;
  }
  int checked = 0;
  for (auto& p : vae->named_parameters()) {
    if (p.key().find("conv1.weight") == std::string::npos && p.key().find("qkv") == std::string::npos)
      continue;
    auto flat = p.value().view(-1);
    const double analytic = p.value().grad().view(-1)[3].item<double>();
    const double keep = flat[3].item<double>();
    flat[3] = keep + eps;
    const double up = loss_of(x.detach()).item<double>();
    flat[3] = keep - eps;
    const double down = loss_of(x.detach()).item<double>();
    flat[3] = keep;
    const double fd = (up - down) / (2 * eps);
    EXPECT_NEAR(analytic, fd, 1e-6 + 1e-4 * std::abs(fd)) << p.key();
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(ConvVae, OverfitsOneBatch) {
  torch::manual_seed(2);
  ConvVae vae(tiny(12));
  auto t = torch::arange(64, torch::kFloat32) / 8.0;
  auto x = torch::stack({torch::sin(t).unsqueeze(0).repeat({12, 1}),
                         torch::cos(2 * t).unsqueeze(0).repeat({12, 1})});  // [2, 12, 64]
  x = x + 0.1 * torch::randn_like(x);
  torch::optim::Adam opt(vae->parameters(), torch::optim::AdamOptions(3e-3));
  double first = 0, last = 0;
  for (int i = 0; i < 300; ++i) {
    opt.zero_grad();
    auto post = vae->encode(x);
    auto rec = vae->decode(post.mean);
    auto loss = (rec - x).abs().mean();
    if (i == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.2 * first) << "first " << first << " last " << last;
}

TEST(ModuleWeights, RoundTripAndMismatchErrors) {
  torch::manual_seed(3);
  ConvVae a(tiny()), b(tiny());
  auto tensors = module_tensors(*a, "music.");
  load_module_tensors(*b, tensors, "music.", "test");
  auto x = torch::randn({1, 80, 32});
  EXPECT_TRUE(torch::equal(a->encode(x).mean, b->encode(x).mean));
  VaeConfig wider = tiny();
  wider.base_channels = 32;
  ConvVae c(wider);
  EXPECT_THROW(load_module_tensors(*c, tensors, "music.", "test"), FormatError);
  tensors["music.extra"] = torch::zeros({1});
  EXPECT_THROW(load_module_tensors(*b, tensors, "music.", "test"), FormatError);
  EXPECT_GT(count_parameters(*a), 1000);
}

}  // namespace
}  // namespace momu

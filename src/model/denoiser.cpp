#include "model/denoiser.h"

#include <torch/torch.h>

#include <cmath>

#include "core/shape.h"
#include "momu/core/error.h"

namespace momu {

namespace {

// Rotary position embedding (rotate-half form), written into `out` (any strides, e.g. a
// transposed view): out = [x1 cos - x2 sin, x1 sin + x2 cos]. x, out: [B, H, L, hd];
// cos, sin: [L, hd / 2]. Used without autograd only.
void rotary_into(at::Tensor out, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  auto o1 = out.narrow(-1, 0, half), o2 = out.narrow(-1, half, half);
  at::mul_out(o1, x1, cos).addcmul_(x2, sin, -1);
  at::mul_out(o2, x1, sin).addcmul_(x2, cos);
}

// The same with autograd. x: [B, H, L, hd]; cos, sin: [L, hd / 2] -> [B, H, L, hd]
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  return torch::cat({at::addcmul(x1 * cos, x2, sin, -1), at::addcmul(x1 * sin, x2, cos)}, -1);
}

// The rotary tables of one call: cos and sin of position x frequency, and the same scaled by
// the attention's 1 / sqrt(hd) for the queries (so the [L, L] scores need no division).
struct RotaryTables {
  at::Tensor cos, sin, cos_q, sin_q;  // [L, hd / 2] each
};

// Pre-norm Transformer blocks with adaLN-Zero modulation. Two forms of the same function: with
// autograd (training), and without it (sampling), where every [B, L, H] and [B, heads, L, L]
// intermediate is updated in place and the keys are written transposed, so the two attention
// products run on contiguous operands.
class DenoiserBlockImpl : public torch::nn::Module {
 public:
  DenoiserBlockImpl(int hidden, int heads, int mlp_hidden) : heads_(heads) {
    qkv_ = register_module("qkv", torch::nn::Linear(hidden, 3 * hidden));
    proj_ = register_module("proj", torch::nn::Linear(hidden, hidden));
    fc1_ = register_module("fc1", torch::nn::Linear(hidden, mlp_hidden));
    fc2_ = register_module("fc2", torch::nn::Linear(mlp_hidden, hidden));
    modulation_ = register_module("modulation", torch::nn::Linear(hidden, 6 * hidden));
    torch::NoGradGuard no_grad;
    modulation_->weight.zero_();
    modulation_->bias.zero_();
  }

  // With autograd. x: [B, L, H], c: [B, H] (activated time embedding) -> [B, L, H]
  at::Tensor forward(const at::Tensor& x, const at::Tensor& c, const RotaryTables& r) {
    auto mod = modulation_->forward(c).unsqueeze(1).chunk(6, 2);  // 6 x [B, 1, H]
    const int64_t b = x.size(0), l = x.size(1), h = x.size(2), hd = h / heads_;
    auto y = at::addcmul(mod[0], norm(x), 1 + mod[1]);
    auto qkv = qkv_->forward(y).view({b, l, 3, heads_, hd}).permute({2, 0, 3, 1, 4});  // [3,B,H,L,hd]
    auto q = apply_rotary(qkv[0], r.cos_q, r.sin_q);
    auto kt = apply_rotary(qkv[1], r.cos, r.sin).transpose(-2, -1).contiguous();  // [B,H,hd,L]
    auto att = torch::softmax(torch::matmul(q, kt), -1);
    auto o = torch::matmul(att, qkv[2]).permute({0, 2, 1, 3}).reshape({b, l, h});
    auto out = at::addcmul(x, mod[2], proj_->forward(o));
    y = at::addcmul(mod[3], norm(out), 1 + mod[4]);
    return at::addcmul(out, mod[5], fc2_->forward(torch::gelu(fc1_->forward(y))));
  }

  // Without autograd; x is updated in place and returned. x: [B, L, H] contiguous, c: [B, H]
  // -> [B, L, H]
  at::Tensor forward_in_place(at::Tensor x, const at::Tensor& c, const RotaryTables& r) {
    auto mod = modulation_->forward(c).unsqueeze(1).chunk(6, 2);  // 6 x [B, 1, H]
    const int64_t b = x.size(0), l = x.size(1), h = x.size(2), hd = h / heads_;
    auto y = norm(x);
    at::addcmul_out(y, mod[0], y, mod[1].add(1));
    auto qkv = qkv_->forward(y).view({b, l, 3, heads_, hd}).permute({2, 0, 3, 1, 4});  // [3,B,H,L,hd]
    auto q = at::empty({b, heads_, l, hd}, x.options());
    auto kt = at::empty({b, heads_, hd, l}, x.options());
    rotary_into(q, qkv[0], r.cos_q, r.sin_q);
    rotary_into(kt.transpose(-2, -1), qkv[1], r.cos, r.sin);
    auto att = torch::matmul(q, kt);  // [B, H, L, L]
    at::_softmax_out(att, att, -1, false);
    auto o = torch::matmul(att, qkv[2]).permute({0, 2, 1, 3}).reshape({b, l, h});
    x.addcmul_(mod[2], proj_->forward(o));
    y = norm(x);
    at::addcmul_out(y, mod[3], y, mod[4].add(1));
    auto f = fc1_->forward(y);
    at::gelu_out(f, f);
    return x.addcmul_(mod[5], fc2_->forward(f));
  }

 private:
  static at::Tensor norm(const at::Tensor& x) { return at::layer_norm(x, {x.size(-1)}, {}, {}, 1e-6); }

  int64_t heads_;
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  torch::nn::Linear modulation_{nullptr};
};
TORCH_MODULE(DenoiserBlock);

int mlp_width(const DenoiserConfig& c) {
  return std::max(1, static_cast<int>(std::lround(c.mlp_ratio * c.hidden)));
}

}  // namespace

at::Tensor timestep_embedding(const at::Tensor& t, int64_t dim) {
  if (!t.defined() || t.dim() != 1 || dim < 2 || dim % 2 != 0) {
    throw ShapeError("timestep_embedding: expected t [B] and an even dim");
  }
  const int64_t half = dim / 2;
  auto freqs = torch::exp(-std::log(10000.0) *
                          torch::arange(half, torch::TensorOptions().dtype(torch::kFloat32).device(t.device())) /
                          static_cast<double>(half));
  auto args = t.to(torch::kFloat32).unsqueeze(1) * freqs.unsqueeze(0);
  return torch::cat({torch::cos(args), torch::sin(args)}, 1);
}

DenoiserImpl::DenoiserImpl(const DenoiserConfig& config) : config_(config) {
  config_.validate();
  if (config_.latent_channels < 1) {
    throw ConfigError("denoiser config: latent_channels must be set (>= 1) to build the model");
  }
  const int h = config_.hidden;
  const int in_ch = config_.latent_channels + config_.cond_channels + 1;
  in_proj_ = register_module(
      "in_proj", torch::nn::Conv1d(torch::nn::Conv1dOptions(in_ch, h, config_.in_kernel)
                                       .padding(config_.in_kernel / 2)));
  time_fc1_ = register_module("time_fc1", torch::nn::Linear(h, h));
  time_fc2_ = register_module("time_fc2", torch::nn::Linear(h, h));
  null_embedding_ = register_parameter("null_embedding", torch::randn({h}) * 0.02);
  if (config_.guidance_embedding) {
    guidance_fc1_ = register_module("guidance_fc1", torch::nn::Linear(h, h));
    guidance_fc2_ = register_module("guidance_fc2", torch::nn::Linear(h, h));
  }
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config_.depth; ++i) {
    blocks_->push_back(DenoiserBlock(h, config_.heads, mlp_width(config_)));
  }
  final_norm_ = register_module(
      "final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).elementwise_affine(false).eps(1e-6)));
  final_modulation_ = register_module("final_modulation", torch::nn::Linear(h, 2 * h));
  out_proj_ = register_module("out_proj", torch::nn::Linear(h, config_.latent_channels));
  torch::NoGradGuard no_grad;
  final_modulation_->weight.zero_();
  final_modulation_->bias.zero_();
  out_proj_->weight.zero_();
  out_proj_->bias.zero_();
  if (guidance_fc2_) {  // a student starts as its teacher's conditional prediction
    guidance_fc2_->weight.zero_();
    guidance_fc2_->bias.zero_();
  }
}

at::Tensor DenoiserImpl::forward(const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond,
                                 const at::Tensor& keep, const at::Tensor& scales) {
  const int64_t d = config_.latent_channels, dc = config_.cond_channels;
  if (!z.defined() || z.dim() != 3 || z.size(1) != d || z.size(2) < 1) {
    throw ShapeError("denoiser: expected z [B, " + std::to_string(d) + ", L], got " +
                     describe_shape(z));
  }
  const int64_t b = z.size(0), l = z.size(2);
  if (!t.defined() || t.dim() != 1 || t.size(0) != b) {
    throw ShapeError("denoiser: expected t [" + std::to_string(b) + "], got " +
                     describe_shape(t));
  }
  at::Tensor c, k;
  if (cond.defined()) {
    if (cond.dim() != 3 || cond.size(0) != b || cond.size(1) != dc || cond.size(2) != l) {
      throw ShapeError("denoiser: expected cond [" + std::to_string(b) + ", " + std::to_string(dc) +
                       ", " + std::to_string(l) + "], got " + c10::str(cond.sizes()));
    }
    if (keep.defined() && keep.numel() != b) {
      throw ShapeError("denoiser: expected keep [" + std::to_string(b) + "], got " + c10::str(keep.sizes()));
    }
    k = keep.defined() ? keep.to(z.options()).reshape({b}) : torch::ones({b}, z.options());
    c = cond.to(z.options()) * k.view({b, 1, 1});
  } else {
    c = torch::zeros({b, dc, l}, z.options());
    k = torch::zeros({b}, z.options());
  }
  auto x = in_proj_->forward(torch::cat({z, c, k.view({b, 1, 1}).expand({b, 1, l})}, 1));  // [B, H, L]
  x = x.permute({0, 2, 1}).contiguous();                                                     // [B, L, H]
  auto emb = time_fc2_->forward(torch::silu(time_fc1_->forward(
      timestep_embedding(t.to(z.device()), config_.hidden))));
  emb = emb + (1 - k).unsqueeze(1) * null_embedding_.unsqueeze(0);
  if (config_.guidance_embedding) {
    // Each scale through half of a sinusoidal embedding (x 100: scales 1-20 span the frequencies
    // timesteps 100-2000 do).
    at::Tensor sc = scales;
    if (!sc.defined()) sc = torch::ones({b, 2}, z.options());
    if (sc.dim() != 2 || sc.size(0) != b || sc.size(1) != 2) {
      throw ShapeError("denoiser: expected scales [" + std::to_string(b) + ", 2], got " + describe_shape(sc));
    }
    sc = sc.to(z.options()) * 100.0;
    const int64_t half = config_.hidden / 2;
    auto g = torch::cat({timestep_embedding(sc.select(1, 0), half), timestep_embedding(sc.select(1, 1), config_.hidden - half)}, 1);
    emb = emb + guidance_fc2_->forward(torch::silu(guidance_fc1_->forward(g.to(z.scalar_type()))));
  } else if (scales.defined()) {
    throw ShapeError("denoiser: guidance scales given to a network without a guidance embedding");
  }
  auto act = torch::silu(emb);
  // Rotary tables for this length; the queries' carry the attention scale 1 / sqrt(hd).
  const int64_t hd = config_.hidden / config_.heads, half = hd / 2;
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(z.device());
  auto inv = torch::exp(-std::log(config_.rope_base) * torch::arange(half, opts) * 2.0 / static_cast<double>(hd));
  auto ang = torch::arange(l, opts).unsqueeze(1) * inv.unsqueeze(0);  // [L, half]
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  RotaryTables r{ang.cos(), ang.sin(), {}, {}};
  r.cos_q = (r.cos * scale).to(z.scalar_type());
  r.sin_q = (r.sin * scale).to(z.scalar_type());
  r.cos = r.cos.to(z.scalar_type());
  r.sin = r.sin.to(z.scalar_type());
  // Without autograd (sampling) the blocks work in place on x, which this call owns.
  const bool in_place = !at::GradMode::is_enabled();
  for (const auto& m : *blocks_) {
    auto* block = m->as<DenoiserBlockImpl>();
    x = in_place ? block->forward_in_place(x, act, r) : block->forward(x, act, r);
  }
  auto mod = final_modulation_->forward(act).unsqueeze(1).chunk(2, 2);  // 2 x [B, 1, H]
  x = at::addcmul(mod[0], final_norm_->forward(x), 1 + mod[1]);
  return out_proj_->forward(x).permute({0, 2, 1}).contiguous();  // [B, d, L]
}

double denoiser_flops(const DenoiserConfig& c, int64_t length) {
  const double h = c.hidden, l = static_cast<double>(length), m = mlp_width(c);
  const double in = 2.0 * (c.latent_channels + c.cond_channels + 1) * h * c.in_kernel * l;
  const double per_block = 2.0 * l * (3 * h * h + h * h + 2 * h * m) + 2.0 * 2.0 * l * l * h;
  const double out = 2.0 * l * h * c.latent_channels;
  const double time = 2.0 * (2 * h * h) * (c.guidance_embedding ? 2 : 1) + c.depth * 2.0 * h * 6 * h +
                      2.0 * h * 2 * h;
  return in + c.depth * per_block + out + time;
}

}  // namespace momu

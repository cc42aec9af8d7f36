#include "train/ema.h"

#include <torch/torch.h>

#include "momu/core/error.h"

namespace momu {

namespace {
template <typename F>
void for_pairs(torch::nn::Module& ema, const torch::nn::Module& model, F&& f) {
  auto target = ema.named_parameters(true);
  auto source = model.named_parameters(true);
  if (target.size() != source.size()) throw ShapeError("EMA: the two modules differ");
  for (const auto& item : source) {
    auto* t = target.find(item.key());
    if (t == nullptr) throw ShapeError("EMA: parameter '" + item.key() + "' missing");
    f(*t, item.value());
  }
  auto tb = ema.named_buffers(true);
  for (const auto& item : model.named_buffers(true)) {
    auto* t = tb.find(item.key());
    if (t == nullptr) throw ShapeError("EMA: buffer '" + item.key() + "' missing");
    t->copy_(item.value());
  }
}
}  // namespace

void ema_update(torch::nn::Module& ema, const torch::nn::Module& model, double decay) {
  torch::NoGradGuard no_grad;
  for_pairs(ema, model, [decay](at::Tensor& e, const at::Tensor& p) {
    e.mul_(decay).add_(p.detach(), 1.0 - decay);
  });
}

void ema_copy(torch::nn::Module& ema, const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for_pairs(ema, model, [](at::Tensor& e, const at::Tensor& p) { e.copy_(p.detach()); });
}

}  // namespace momu

#include "model/module_weights.h"

#include <torch/torch.h>

#include <set>

#include "momu/core/error.h"

namespace momu {

std::map<std::string, at::Tensor> module_tensors(const torch::nn::Module& module,
                                                 const std::string& prefix) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    out[prefix + p.key()] = p.value().detach().to(torch::kCPU).contiguous().clone();
  }
  for (const auto& b : module.named_buffers(/*recurse=*/true)) {
    out[prefix + b.key()] = b.value().detach().to(torch::kCPU).contiguous().clone();
  }
  return out;
}

void load_module_tensors(torch::nn::Module& module, const std::map<std::string, at::Tensor>& tensors,
                         const std::string& prefix, const std::string& what) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  auto assign = [&](const std::string& name, at::Tensor target) {
    auto it = tensors.find(prefix + name);
    if (it == tensors.end()) {
      throw FormatError(what + ": tensor '" + prefix + name +
                        "' is missing (a checkpoint of another model configuration?)");
    }
    if (it->second.sizes() != target.sizes()) {
      throw FormatError(what + ": tensor '" + prefix + name + "' has shape " +
                        c10::str(it->second.sizes()) + ", the model expects " +
                        c10::str(target.sizes()) + " (a checkpoint of another configuration?)");
    }
    target.copy_(it->second.to(target.device(), target.scalar_type()));
    used.insert(it->first);
  };
  for (auto& p : module.named_parameters(/*recurse=*/true)) assign(p.key(), p.value());
  for (auto& b : module.named_buffers(/*recurse=*/true)) assign(b.key(), b.value());
  for (const auto& [name, t] : tensors) {
    if (name.compare(0, prefix.size(), prefix) == 0 && used.count(name) == 0) {
      throw FormatError(what + ": unexpected tensor '" + name +
                        "' (a checkpoint of another model configuration?)");
    }
  }
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters(/*recurse=*/true)) n += p.numel();
  return n;
}

}  // namespace momu

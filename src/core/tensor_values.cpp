#include "core/tensor_values.h"

#include <torch/torch.h>

namespace momu {

std::vector<double> to_double_vector(const at::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace momu

// Tensor shapes in error messages: "[2, 3]", or "undefined" for an undefined tensor.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace momu {

std::string describe_shape(const at::Tensor& t);

}  // namespace momu

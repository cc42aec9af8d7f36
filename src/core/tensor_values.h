// Copying tensor values out into plain containers (for JSON output and event lists).
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace momu {

// Any real tensor on any device -> its values as float64, flattened in row-major order.
std::vector<double> to_double_vector(const at::Tensor& t);

}  // namespace momu

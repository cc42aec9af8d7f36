// Moving module parameters to and from named tensor maps (the safetensors files of checkpoints).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <map>
#include <string>

namespace momu {

// Every parameter and buffer of `module` under "<prefix><name>" (CPU, contiguous copies).
std::map<std::string, at::Tensor> module_tensors(const torch::nn::Module& module,
                                                 const std::string& prefix);

// Copies tensors "<prefix><name>" of `tensors` into the module's parameters and buffers (on the
// module's device). Every parameter must be present with the same shape, and no other tensor with
// the prefix may be left over: a checkpoint of another configuration is a FormatError naming
// `what` (usually the file) and the first tensor that does not fit.
void load_module_tensors(torch::nn::Module& module, const std::map<std::string, at::Tensor>& tensors,
                         const std::string& prefix, const std::string& what);

// Number of scalar parameters of a module (trainable and frozen).
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace momu

// Saving and restoring an optimizer's state (AdamW moments and step counts) for exact resume.
// LibTorch's own archive format: the state is only ever read back by momu.
#pragma once

#include <torch/optim/optimizer.h>

#include <filesystem>

namespace momu {

// Writes atomically. Throws IoError naming the file.
void save_optimizer_state(const torch::optim::Optimizer& optimizer,
                          const std::filesystem::path& path);
// Loads onto `device`. Throws IoError / FormatError naming the file.
void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::filesystem::path& path,
                          const torch::Device& device);

}  // namespace momu

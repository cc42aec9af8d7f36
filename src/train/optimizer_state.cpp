#include "train/optimizer_state.h"

#include <torch/torch.h>

#include <sstream>

#include "core/atomic_file.h"
#include "momu/core/error.h"

namespace momu {

void save_optimizer_state(const torch::optim::Optimizer& optimizer,
                          const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_bytes_atomically(path, bytes.str());
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::filesystem::path& path,
                          const torch::Device& device) {
  std::istringstream bytes(read_file_bytes(path));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes, device);
    optimizer.load(archive);
  } catch (const c10::Error& e) {
    throw FormatError(path.string() + ": cannot read the optimizer state (" +
                      e.what_without_backtrace() + ")");
  }
}

}  // namespace momu

#include "momu/core/runtime.h"

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "momu/core/error.h"

namespace momu {

int configure_threads(int threads) {
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
  }
  torch::set_num_threads(threads);
  return torch::get_num_threads();
}

void configure_allocator(int heap_block_mib) {
  if (heap_block_mib < 1 || heap_block_mib > 1024) {
    throw ConfigError("configure_allocator: heap_block_mib must be in [1, 1024], got " +
                      std::to_string(heap_block_mib));
  }
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, heap_block_mib << 20);
  mallopt(M_TRIM_THRESHOLD, 2 * (heap_block_mib << 20));
#endif
}

std::string validate_device(const std::string& device) {
  try {
    torch::Device d(device);
    if (d.is_cuda() && !torch::cuda::is_available()) {
      throw ConfigError("device '" + device +
                        "' was asked for, but this LibTorch build or machine has no CUDA device; "
                        "use --device cpu, or build against a CUDA LibTorch (see README)");
    }
    if (!d.is_cpu() && !d.is_cuda()) {
      throw ConfigError("device '" + device + "' is not supported: use cpu or cuda[:N]");
    }
  } catch (const c10::Error&) {
    throw ConfigError("unknown device '" + device + "': use cpu or cuda[:N]");
  }
  return device;
}

BlasInfo detect_blas() {
  BlasInfo info;
  void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info dl{};
  if (sym != nullptr && dladdr(sym, &dl) != 0 && dl.dli_fname != nullptr) {
    std::error_code ec;
    auto resolved = std::filesystem::canonical(dl.dli_fname, ec);
    info.library_path = ec ? std::string(dl.dli_fname) : resolved.string();
  }
  const std::string& p = info.library_path;
  if (p.find("openblas") != std::string::npos) {
    info.name = p.find("pthread") != std::string::npos   ? "OpenBLAS (pthread)"
                : p.find("openmp") != std::string::npos ? "OpenBLAS (OpenMP)"
                                                         : "OpenBLAS";
    info.fast = true;
  } else if (p.find("mkl") != std::string::npos) {
    info.name = "MKL";
    info.fast = true;
  } else if (p.find("blis") != std::string::npos) {
    info.name = "BLIS";
    info.fast = true;
  } else if (p.find("atlas") != std::string::npos) {
    info.name = "ATLAS";
    info.fast = true;
  } else if (p.find("/blas/") != std::string::npos) {
    info.name = "reference BLAS (slow: apt-get install libopenblas0-pthread)";
  } else if (p.empty()) {
    info.name = "built into LibTorch";
    info.fast = true;
  } else {
    info.name = "unknown";
  }
  return info;
}

double measure_matmul_gflops(int n, double seconds) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n});
  auto b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up
  int64_t reps = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0.0;
  while (elapsed < seconds || reps < 2) {
    c = torch::mm(a, b);
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return 2.0 * n * n * static_cast<double>(n) * reps / elapsed / 1e9;
}

}  // namespace momu

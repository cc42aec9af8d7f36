// Run-time environment: compute device, thread count, and what BLAS LibTorch really uses.
#pragma once

#include <string>

namespace momu {

// Sets LibTorch's intra-op threads: `threads` > 0 as given, otherwise every available core.
// Returns the number in force afterwards.
int configure_threads(int threads);

// Keeps the buffers of tensor operations in the process heap (glibc malloc; nothing elsewhere).
// By default glibc serves blocks above 128 KiB (raised dynamically up to 32 MiB) with fresh mmap
// pages and returns free heap above 128 KiB to the system, so every denoiser call's attention and
// MLP buffers (6-8 MB) cost page faults and zeroing: the call ran at about two thirds of its
// speed (docs/training_runs.md, session 12). Sets blocks up to 64 MiB to come from the heap and
// keeps up to 128 MiB of free heap. Call once at program start, before threads start allocating.
void configure_allocator();

// Parses "cpu", "cuda" or "cuda:N"; throws ConfigError when unknown or when CUDA is asked for
// but this LibTorch build or machine has none.
std::string validate_device(const std::string& device);

struct BlasInfo {
  std::string library_path;  // resolved path of the shared object that provides sgemm_
  std::string name;          // "OpenBLAS (pthread)", "reference BLAS", "MKL", ... or "unknown"
  bool fast = false;         // false for the reference BLAS (about 30x slower matrix products)
};

// Finds the BLAS library providing sgemm_ in this process (after LibTorch is loaded).
BlasInfo detect_blas();

// Measures the fp32 matrix-multiply rate of this machine: n x n products for about
// `seconds`, returns GFLOP/s (2 n^3 per product).
double measure_matmul_gflops(int n = 1024, double seconds = 1.0);

}  // namespace momu

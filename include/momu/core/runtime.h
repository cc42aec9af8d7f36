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
// speed (docs/training_runs.md, session 12). Sets blocks up to `heap_block_mib` MiB to come from
// the heap and keeps up to twice that of free heap. Call at program start, before threads start
// allocating; a training program calls it again with kTrainingHeapBlockMiB.
// Generation keeps 64 MiB: larger blocks (the spectrograms of minutes of audio) would stay in the
// heap after use and lift the peak memory of a 5-minute joint generation over 1 GiB.
void configure_allocator(int heap_block_mib = 64);
// For training: a batch's attention scores (16 x 4 heads x 512 x 512 floats) are 64 MiB, and with
// fresh pages every step a training step ran about a fifth slower (session 15).
constexpr int kTrainingHeapBlockMiB = 256;

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

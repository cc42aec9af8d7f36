// momu info: version, LibTorch, devices, threads and the BLAS actually in use.
#include <torch/torch.h>

#include <cstdlib>

#include "cli_common.h"
#include "momu/core/runtime.h"

namespace momu::cli {

void add_info_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("info", "print version, LibTorch, devices, threads and BLAS");
  auto measure = std::make_shared<bool>(false);
  cmd->add_flag("--measure", *measure, "also measure the fp32 matrix-multiply rate (1 s)");
  cmd->callback([&ctx, measure] {
    ctx.apply_runtime();
    const BlasInfo blas = detect_blas();
    nlohmann::json j{{"momu", MOMU_VERSION},
                     {"libtorch", TORCH_VERSION},
                     {"threads", torch::get_num_threads()},
                     {"cuda_available", torch::cuda::is_available()},
                     {"cuda_devices", torch::cuda::is_available() ? torch::cuda::device_count() : 0},
                     {"blas", blas.name},
                     {"blas_library", blas.library_path},
                     {"blas_fast", blas.fast}};
    const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
    j["omp_wait_policy"] = wait_policy ? wait_policy : "";
    if (*measure) j["matmul_gflops"] = measure_matmul_gflops();
    print_json(j);
  });
}

}  // namespace momu::cli

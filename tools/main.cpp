// momu: the command line. Every verb lives in its own cmd_*.cpp; library exceptions are caught
// here, once, and mapped to the documented exit codes (README, "Exit codes").
#include <c10/util/Exception.h>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli_common.h"
#include "momu/core/error.h"

int main(int argc, char** argv) {
  using namespace momu;
  // LibTorch's OpenMP threads spin after every parallel region while OpenBLAS (pthread) runs the
  // matrix products on threads of its own, so by default the two fight over the cores: on 2 cores
  // `momu generate` took 23 s instead of 8 s. libgomp reads OMP_WAIT_POLICY only when it loads,
  // so set it and start again, once (a policy the user set is kept).
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    ::execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
  }
  CLI::App app{"momu: dance motion <-> music with MoMu-Diffusion (C++ / LibTorch)", "momu"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the verb: momu prepare -q ...
  app.set_version_flag("--version", std::string("momu ") + MOMU_VERSION);
  cli::CliContext ctx;
  app.add_option("--threads", ctx.threads, "intra-op threads (default: all cores)")
      ->check(CLI::Range(0, cli::kMaxThreads));
  app.add_option("--device", ctx.device, "compute device: cpu or cuda[:N]");
  app.add_flag("-q,--quiet", ctx.quiet, "no progress bars or info messages");
  app.add_flag("-v,--verbose", ctx.verbose, "debug messages");
  app.footer(
      "Exit codes: 0 ok, 1 error, 2 usage, 3 I/O, 4 bad file format or content, 5 bad "
      "configuration, 6 shape/length mismatch.");

  cli::add_info_command(app, ctx);
  cli::add_features_command(app, ctx);
  cli::add_export_command(app, ctx);
  cli::add_prepare_command(app, ctx);
  cli::add_eval_command(app, ctx);
  cli::add_render_command(app, ctx);
  cli::add_train_vae_command(app, ctx);
  cli::add_inspect_command(app, ctx);
  cli::add_codec_commands(app, ctx);
  cli::add_eval_vae_command(app, ctx);
  cli::add_train_diffusion_command(app, ctx);
  cli::add_generate_command(app, ctx);
  cli::add_eval_generate_command(app, ctx);
  cli::add_bench_command(app, ctx);
  cli::add_pack_model_command(app, ctx);
  cli::add_plot_command(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  } catch (const IoError& e) {
    std::cerr << "momu: error: " << e.what() << "\n";
    return kExitIo;
  } catch (const FormatError& e) {
    std::cerr << "momu: error: " << e.what() << "\n";
    return kExitFormat;
  } catch (const ConfigError& e) {
    std::cerr << "momu: error: " << e.what() << "\n";
    return kExitConfig;
  } catch (const ShapeError& e) {
    std::cerr << "momu: error: " << e.what() << "\n";
    return kExitShape;
  } catch (const c10::Error& e) {
    std::cerr << "momu: error (LibTorch): " << e.what_without_backtrace() << "\n";
    return kExitError;
  } catch (const std::exception& e) {
    std::cerr << "momu: error: " << e.what() << "\n";
    return kExitError;
  }
  return kExitOk;
}

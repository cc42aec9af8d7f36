// momu: the command line. Every verb lives in its own cmd_*.cpp; library exceptions are caught
// here, once, and mapped to the documented exit codes (README, "Exit codes").
#include <c10/util/Exception.h>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli_common.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"
#include "output_guard.h"

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
  configure_allocator();  // tensor buffers from the heap, not fresh pages (core/runtime.h)
  // SIGXFSZ, SIGINT, SIGTERM, SIGHUP: no temporary file is left behind (output_guard.h). The
  // folders live until the process ends (the cleanup thread may read them at any time).
  auto* outputs = new cli::OutputFolders;
  cli::install_signal_cleanup(*outputs);
  CLI::App app{"momu: dance motion <-> music with MoMu-Diffusion (C++ / LibTorch)", "momu"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the verb: momu prepare -q ...
  app.set_version_flag("--version", std::string("momu ") + MOMU_VERSION);
  cli::CliContext ctx;
  ctx.outputs = outputs;
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
  cli::add_serve_command(app, ctx);

  // An error caused by SIGINT/SIGTERM (a killed ffmpeg, say) is not reported: the cleanup
  // thread ends the process with that signal.
  auto fail = [](int code, const std::string& message) {
    cli::wait_for_signal_cleanup();
    std::cerr << "momu: error" << message << "\n";
    return code;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  } catch (const IoError& e) {
    return fail(kExitIo, std::string(": ") + e.what());
  } catch (const FormatError& e) {
    return fail(kExitFormat, std::string(": ") + e.what());
  } catch (const ConfigError& e) {
    return fail(kExitConfig, std::string(": ") + e.what());
  } catch (const ShapeError& e) {
    return fail(kExitShape, std::string(": ") + e.what());
  } catch (const c10::Error& e) {
    return fail(kExitError, std::string(" (LibTorch): ") + e.what_without_backtrace());
  } catch (const std::filesystem::filesystem_error& e) {
    // A file-system call the library did not wrap (a folder it could not create, say): I/O.
    return fail(kExitIo, std::string(": ") + e.what());
  } catch (const std::exception& e) {
    return fail(kExitError, std::string(": ") + e.what());
  }
  cli::wait_for_signal_cleanup();
  return kExitOk;
}

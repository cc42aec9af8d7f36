#include "cli_common.h"

#include "diffusion/sampler.h"
#include "momu/core/error.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "momu/core/runtime.h"
#include "momu_paths.h"
#include "output_guard.h"

namespace momu::cli {

std::filesystem::path resolve_model_dir(const std::string& flag, const std::string& verb) {
  namespace fs = std::filesystem;
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("MOMU_MODEL")) {
    if (*env != '\0') return env;
  }
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && exe.has_parent_path()) {
    const fs::path dir = exe.parent_path();
    candidates.push_back(dir.parent_path() / "models" / "default");
    candidates.push_back(dir.parent_path() / "share" / "momu" / "models" / "default");
  }
  candidates.push_back(fs::path(MOMU_SOURCE_DIR) / "models" / "default");
  std::string looked;
  for (const auto& c : candidates) {
    if (fs::is_directory(c / "vae", ec)) return c.lexically_normal();
    looked += (looked.empty() ? "" : ", ") + c.lexically_normal().string();
  }
  throw ConfigError(verb + ": no model given and no default model found (looked in " + looked +
                    "); pass --model <folder> or set MOMU_MODEL");
}

std::string number_text(double v) {
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e17) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.4g", v);
  }
  return buf;
}

namespace {

CLI::Validator range_validator(double min, double max, bool zero_ok) {
  const std::string range = "[" + number_text(min) + ", " + number_text(max) + "]";
  const std::string desc = zero_ok ? "0 or a number in " + range : "a number in " + range;
  return CLI::Validator(
      [min, max, zero_ok, desc](std::string& input) -> std::string {
        double v = 0.0;
        if (!CLI::detail::lexical_cast(input, v) || !std::isfinite(v)) {
          return input + " is not " + desc;
        }
        if (zero_ok && v == 0.0) return {};
        if (v < min || v > max) return input + " is not " + desc;
        return {};
      },
      desc);
}

}  // namespace

CLI::Validator finite_range(double min, double max) { return range_validator(min, max, false); }

CLI::Validator zero_or_finite_range(double min, double max) {
  return range_validator(min, max, true);
}

CLI::Validator fps_range() { return finite_range(kMinFps, kMaxFps); }

MotionLoadOptions MotionInputArgs::load_options() const {
  MotionLoadOptions o;
  o.fps_override = fps;
  o.skeleton = skeleton;
  return o;
}

void add_motion_input_options(CLI::App* cmd, MotionInputArgs& a, bool with_skeleton) {
  cmd->add_option("--fps", a.fps,
                  "the motion's frame rate: of an .npy (default 25); overrides the rate other files "
                  "store")
      ->check(fps_range());
  if (with_skeleton) {
    cmd->add_option("--skeleton", a.skeleton,
                    "skeleton (dwm23, openpose14, coco17, coco17_3d, smpl24): how to read an .npy "
                    "(default: guessed from its shape); for other files, keep its joints by name "
                    "(e.g. dwm23 from an exported BVH)");
  }
}

void add_sampler_options(CLI::App* cmd, SamplerArgs& a) {
  cmd->add_option("--sampler", a.sampler,
                  "ddim, dpmpp2m (DPM-Solver++ 2M, second order: fewer steps) or ddpm (all T "
                  "steps) (default: the model's for the task)")
      ->check(CLI::IsMember({"ddim", "dpmpp2m", "ddpm"}));
  // Unset options keep their sentinel -1 (outside every range): the model's default applies.
  cmd->add_option("--steps", a.steps, "DDIM / DPM-Solver++ steps (default: the model's for the task)")
      ->check(CLI::Range(1, kMaxSamplerSteps));
  cmd->add_option("--eta", a.eta,
                  "stochasticity in [0, 1] (default: the model's; dpmpp2m: 1 is the reverse SDE)")
      ->check(finite_range(0.0, 1.0));
  cmd->add_option("--guidance", a.guidance,
                  "classifier-free guidance scale (default: the model's for the task)")
      ->check(finite_range(0.0, 100.0));
  cmd->add_option("--clock-guidance", a.clock_guidance,
                  "clock experts: guidance scale of the beat clock on its own (default: the "
                  "model's, else --guidance; eps_null + s_clock (eps_clock - eps_null) + s "
                  "(eps_full - eps_clock))")
      ->check(finite_range(0.0, 100.0));
  cmd->add_option("--guidance-interval", a.guidance_interval,
                  "FROM,TO: guidance only at timesteps in [FROM * T, TO * T], fractions of T; "
                  "elsewhere one conditional evaluation per step (default: the model's, 0,1: "
                  "every step)")
      ->expected(2)
      ->delimiter(',')
      ->check(finite_range(0.0, 1.0));
  cmd->add_option("--tc", a.tc, "joint: cross-guidance from tc * T down (fraction, default 0.5)")
      ->check(finite_range(0.0, 1.0));
  cmd->add_option("--seed", a.seed, "random seed (default 0)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--window", a.window, "latent frames per denoiser window (long outputs)")
      ->check(CLI::Range(1, kMaxWindow));
  cmd->add_option("--overlap", a.overlap, "latent frames shared by neighbouring windows")
      ->check(CLI::Range(0, kMaxWindow));
}

void apply_sampler_args(const SamplerArgs& a, int64_t max_steps, SamplerConfig& c) {
  if (!a.sampler.empty()) c.sampler = a.sampler;
  // -1: not given. Anything else goes to c.validate(), so no value is silently replaced.
  if (a.steps != -1) c.steps = a.steps;
  if (a.eta != -1.0) c.eta = a.eta;
  if (a.guidance != -1.0) c.guidance = a.guidance;
  if (a.clock_guidance != -1.0) c.clock_guidance = a.clock_guidance;
  if (a.tc != -1.0) c.tc = a.tc;
  if (a.guidance_interval.size() == 2) {
    if (a.guidance_interval[0] > a.guidance_interval[1]) {
      throw ConfigError("--guidance-interval FROM,TO needs FROM <= TO, got " +
                        number_text(a.guidance_interval[0]) + "," + number_text(a.guidance_interval[1]));
    }
    c.guidance_from = a.guidance_interval[0];
    c.guidance_to = a.guidance_interval[1];
  }
  if (a.seed != -1) c.seed = static_cast<uint64_t>(a.seed);
  if (a.window != -1) c.window = a.window;
  if (a.overlap != -1) c.overlap = a.overlap;
  c.validate();
  if (c.sampler != "ddpm" && c.steps > max_steps) {
    throw ConfigError("--steps " + std::to_string(c.steps) + " exceeds the model's " +
                      std::to_string(max_steps) + " diffusion timesteps");
  }
}


LogSink CliContext::log_sink() const {
  const bool q = quiet;
  const bool v = verbose;
  return [q, v](LogLevel level, const std::string& message) {
    if (level == LogLevel::kDebug && !v) return;
    if (level == LogLevel::kInfo && q) return;
    std::cerr << "momu: " << (level >= LogLevel::kWarning ? log_level_name(level) : "")
              << (level >= LogLevel::kWarning ? ": " : "") << message << "\n";
  };
}

namespace {

struct BarState {
  std::string label;
  bool tty = false;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw{};
  int last_percent = -1;
};

void draw(BarState& s, const Progress& p) {
  const auto now = std::chrono::steady_clock::now();
  const bool finished = p.total > 0 && p.done >= p.total;
  const int percent = p.total > 0 ? static_cast<int>(100 * p.done / p.total) : -1;
  if (s.tty) {
    if (!finished && now - s.last_draw < std::chrono::milliseconds(100)) return;
  } else if (!finished && percent / 10 == s.last_percent / 10) {
    return;  // logs and CI: a line every 10 %
  }
  s.last_draw = now;
  s.last_percent = percent;
  const double elapsed = std::chrono::duration<double>(now - s.start).count();
  std::string bar;
  if (p.total > 0) {
    const int width = 30;
    const int filled = static_cast<int>(width * p.done / p.total);
    bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
  }
  char tail[160];
  if (p.total > 0) {
    const double eta = p.done > 0 ? elapsed * (p.total - p.done) / p.done : 0.0;
    std::snprintf(tail, sizeof(tail), "%lld/%lld %3d%% %.1fs eta %.1fs", (long long)p.done,
                  (long long)p.total, percent, elapsed, eta);
  } else {
    std::snprintf(tail, sizeof(tail), "%lld %.1fs", (long long)p.done, elapsed);
  }
  std::string line = s.label + " " + bar + tail;
  if (!p.item.empty()) line += " " + p.item;
  if (s.tty) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), finished ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace

ProgressCallback CliContext::progress_bar(const std::string& label) const {
  if (quiet) return {};
  auto state = std::make_shared<BarState>();
  state->label = label;
  state->tty = ::isatty(STDERR_FILENO) != 0;
  return [state](const Progress& p) { draw(*state, p); };
}

void CliContext::apply_runtime() const {
  int n = threads;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores > 0 && n > cores) {
    log_to(log_sink(), LogLevel::kWarning,
           "--threads " + std::to_string(n) + " is more than the " + std::to_string(cores) +
               " cores of this machine; using " + std::to_string(cores));
    n = cores;
  }
  configure_threads(n);
  validate_device(device);
}

namespace {

namespace fs = std::filesystem;

// Why `folder` (an existing path) cannot take new files, or "" when it can.
std::string unwritable_reason(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return "'" + folder.string() + "' is not a folder";
  if (::faccessat(AT_FDCWD, folder.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    return "cannot write into the folder '" + folder.string() + "': " + std::strerror(errno);
  }
  return "";
}

fs::path folder_of(const fs::path& p) { return p.has_parent_path() ? p.parent_path() : "."; }

// `dir` without a trailing separator ("out/" -> "out").
fs::path strip_separator(const fs::path& dir) {
  fs::path d = dir.lexically_normal();
  if (d.filename().empty() && d.has_parent_path()) d = d.parent_path();
  return d;
}

// The nearest existing folder at or above `dir`, checked writable (IoError naming `what`).
void check_creatable(const std::string& what, const fs::path& shown, const fs::path& dir) {
  std::error_code ec;
  fs::path existing = dir;
  while (!fs::exists(existing, ec)) {
    if (!existing.has_parent_path() || existing.parent_path() == existing) {
      existing = ".";
      break;
    }
    existing = existing.parent_path();
  }
  const std::string why = unwritable_reason(existing);
  if (!why.empty()) throw IoError(what + " " + shown.string() + ": " + why);
}

}  // namespace

void CliContext::check_output_file(const std::string& what, const fs::path& file) const {
  if (file.empty()) return;
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    throw IoError(what + " " + file.string() + ": is a folder; give the name of a file to write");
  }
  const fs::path folder = folder_of(file);
  if (!fs::exists(folder, ec)) {
    throw IoError(what + " " + file.string() + ": the folder '" + folder.string() +
                  "' does not exist (create it first)");
  }
  const std::string why = unwritable_reason(folder);
  if (!why.empty()) throw IoError(what + " " + file.string() + ": " + why);
  if (outputs) outputs->add(folder);
}

void CliContext::check_output_dir(const std::string& what, const fs::path& dir_in,
                                  bool with_sibling_temporary) const {
  if (dir_in.empty()) return;
  const fs::path dir = strip_separator(dir_in);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw IoError(what + " " + dir_in.string() + ": is a file, not a folder");
  }
  check_creatable(what, dir_in, dir);
  if (with_sibling_temporary) check_creatable(what, dir_in, folder_of(dir));
  if (outputs) {
    outputs->add(dir);
    if (with_sibling_temporary) outputs->add(folder_of(dir));
  }
}

void print_json(const nlohmann::json& j) { std::cout << j.dump() << std::endl; }

}  // namespace momu::cli

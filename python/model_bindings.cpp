// momu.Model: a loaded model (include/momu/generate/pipeline.h) and its three tasks. Every task
// starts from the model's sampler defaults for that task (Pipeline::default_samplers()); keyword
// options override them as the CLI's `momu generate` options do. The GIL is released while the
// model computes and re-acquired for each progress call; a model computes one task at a time
// (a lock), so several Python threads may share one.
#include <ATen/ATen.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "bindings.h"
#include "convert.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"
#include "momu/generate/pipeline.h"

namespace momu::python {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxSamplerSteps = SamplerConfig::kMaxSteps;  // the library's limits, as the CLI's
constexpr int kMaxWindow = SamplerConfig::kMaxWindow;
constexpr int kMaxIterations = GenerateOptions::kMaxGriffinLimIterations;

// Where Model.load(None) looks (README, "Python"): $MOMU_MODEL, then the
// source tree's models/default, then the installed share/momu/models/default (both baked in by
// CMake: MOMU_PY_SOURCE_MODEL, MOMU_PY_INSTALLED_MODEL).
fs::path resolve_model_dir(const std::optional<fs::path>& given) {
  if (given) return *given;
  if (const char* env = std::getenv("MOMU_MODEL")) {
    if (*env != '\0') return env;
  }
  std::string looked;
  for (const fs::path& c : {fs::path(MOMU_PY_SOURCE_MODEL), fs::path(MOMU_PY_INSTALLED_MODEL)}) {
    std::error_code ec;
    if (fs::is_directory(c / "vae", ec)) return c.lexically_normal();
    looked += (looked.empty() ? "" : ", ") + c.lexically_normal().string();
  }
  throw ConfigError("momu.Model.load: no model given and no default model found (looked in " +
                    looked + "); pass path= or set MOMU_MODEL");
}

class Model {
 public:
  Model(Pipeline pipeline, fs::path dir, std::string device)
      : pipeline_(std::move(pipeline)), dir_(std::move(dir)), device_(std::move(device)) {}

  static std::unique_ptr<Model> load(const std::optional<fs::path>& path,
                                     const std::string& device) {
    const fs::path dir = resolve_model_dir(path);
    const std::string dev = validate_device(device);
    py::gil_scoped_release release;
    return std::make_unique<Model>(Pipeline::load(PipelinePaths::from_model_dir(dir), dev), dir,
                                   dev);
  }

  Pipeline& pipeline() { return pipeline_; }
  std::mutex& mutex() { return mutex_; }
  const fs::path& dir() const { return dir_; }
  const std::string& device() const { return device_; }

 private:
  Pipeline pipeline_;
  std::mutex mutex_;  // one task at a time: a Pipeline is not safe to share between threads
  fs::path dir_;
  std::string device_;
};

// The keyword options: `momu generate`'s, with underscores for dashes, and progress.
const std::vector<std::string>& option_names() {
  // clang-format off
  static const std::vector<std::string> names{
      "seed", "steps", "sampler", "guidance", "clock_guidance", "guidance_interval", "eta", "tc",
      "window", "overlap",
      "bone_postprocess", "keep_on_floor", "griffin_lim_iterations", "clock_shift", "beat_lock",
      "progress"};
  // clang-format on
  return names;
}

std::string option_list() {
  std::string s;
  for (const auto& n : option_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Keyword options, checked by name and type.
class Options {
 public:
  Options(const py::kwargs& kw, const std::string& method) : kw_(kw), method_(method) {
    for (const auto& item : kw) {
      const std::string key = py::str(item.first).cast<std::string>();
      const auto& names = option_names();
      if (std::find(names.begin(), names.end(), key) == names.end()) {
        throw py::type_error(method + "() got an unexpected keyword argument '" + key +
                             "' (options: " + option_list() + ")");
      }
    }
  }

  bool given(const char* name) const { return kw_.contains(name) && !kw_[name].is_none(); }
  py::object get(const char* name) const { return kw_[name]; }

  int64_t integer(const char* name, int64_t min, int64_t max) const {
    const py::object v = get(name);
    if (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v)) {
      throw py::type_error(method_ + "(): " + name + " must be an int, got " + type_name(v));
    }
    const int64_t x = v.cast<int64_t>();
    if (x < min || x > max) {
      throw ConfigError(method_ + "(): " + name + " must be in [" + std::to_string(min) + ", " +
                        std::to_string(max) + "], got " + std::to_string(x));
    }
    return x;
  }

  double number(const char* name, double min, double max) const {
    const py::object v = get(name);
    if (!(py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v)) ||
        py::isinstance<py::bool_>(v)) {
      throw py::type_error(method_ + "(): " + name + " must be a number, got " + type_name(v));
    }
    return finite_in(v.cast<double>(), min, max, method_ + "(): " + name);
  }

  bool flag(const char* name) const {
    const py::object v = get(name);
    if (!py::isinstance<py::bool_>(v)) {
      throw py::type_error(method_ + "(): " + name + " must be True or False, got " + type_name(v));
    }
    return v.cast<bool>();
  }

 private:
  static std::string type_name(const py::object& v) {
    return py::str(py::type::of(v).attr("__name__")).cast<std::string>();
  }
  const py::kwargs& kw_;
  std::string method_;
};

// The task's GenerateOptions: the model's sampler for `task`, then the keyword overrides (as
// apply_sampler_args of the CLI: every value is validated, none silently replaced).
GenerateOptions generate_options(Model& model, const std::string& task, const Options& o,
                                 const std::string& method) {
  GenerateOptions g;
  SamplerConfig& c = g.sampler;
  c = model.pipeline().default_samplers().of(task);
  if (o.given("sampler")) {
    const py::object v = o.get("sampler");
    if (!py::isinstance<py::str>(v)) throw py::type_error(method + "(): sampler must be a str");
    c.sampler = v.cast<std::string>();
  }
  if (o.given("seed")) c.seed = static_cast<uint64_t>(o.integer("seed", 0, INT64_MAX));
  if (o.given("steps")) c.steps = static_cast<int>(o.integer("steps", 1, kMaxSamplerSteps));
  if (o.given("eta")) c.eta = o.number("eta", 0.0, 1.0);
  if (o.given("guidance")) c.guidance = o.number("guidance", 0.0, 100.0);
  if (o.given("clock_guidance")) c.clock_guidance = o.number("clock_guidance", 0.0, 100.0);
  if (o.given("guidance_interval")) {
    const std::string what = method + "(): guidance_interval must be a (from, to) pair of numbers";
    std::vector<double> g;
    try {
      g = o.get("guidance_interval").cast<std::vector<double>>();
    } catch (const py::cast_error&) {
      throw py::type_error(what);
    }
    if (g.size() != 2) throw py::type_error(what);
    c.guidance_from = g[0];  // checked by c.validate() below
    c.guidance_to = g[1];
  }
  if (o.given("tc")) c.tc = o.number("tc", 0.0, 1.0);
  if (o.given("window")) c.window = static_cast<int>(o.integer("window", 1, kMaxWindow));
  if (o.given("overlap")) c.overlap = static_cast<int>(o.integer("overlap", 0, kMaxWindow));
  c.validate();
  const int64_t max_steps = model.pipeline().schedule_timesteps();
  if (c.sampler != "ddpm" && c.steps > max_steps) {
    throw ConfigError(method + "(): steps " + std::to_string(c.steps) + " exceeds the model's " +
                      std::to_string(max_steps) + " diffusion timesteps");
  }
  if (o.given("bone_postprocess")) g.bone_postprocess = o.flag("bone_postprocess");
  if (o.given("keep_on_floor")) g.keep_on_floor = o.flag("keep_on_floor");
  if (o.given("griffin_lim_iterations")) {
    g.griffin_lim_iterations =
        static_cast<int>(o.integer("griffin_lim_iterations", 0, kMaxIterations));
  }
  if (o.given("clock_shift")) {
    if (task == "joint")
      throw ConfigError(method + "(): clock_shift is for music_to_motion and motion_to_music");
    g.clock_shift_beats = o.number("clock_shift", -4.0, 4.0);
  }
  if (o.given("beat_lock")) {
    if (task == "joint") {
      throw ConfigError(method +
                        "(): beat_lock is for music_to_motion and motion_to_music (joint "
                        "outputs share one clock)");
    }
    g.beat_lock = o.flag("beat_lock");
  }
  return g;
}

// progress(step, total) with the GIL held, once per sampler step; a pending signal (Ctrl-C)
// raises KeyboardInterrupt there. `fn` is borrowed: the caller's frame keeps it alive.
ProgressCallback progress_callback(const Options& o, const std::string& method) {
  PyObject* fn = nullptr;
  if (o.given("progress")) {
    const py::object v = o.get("progress");
    if (!PyCallable_Check(v.ptr())) {
      throw py::type_error(method + "(): progress must be a callable(step, total)");
    }
    fn = v.ptr();
  }
  return [fn](const Progress& p) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (fn) py::handle{fn}(p.done, p.total);
  };
}

py::dict sampler_dict(const SamplerConfig& c) {
  py::dict d;
  d["sampler"] = c.sampler;
  d["steps"] = c.steps;
  d["eta"] = c.eta;
  d["guidance"] = c.guidance;
  d["clock_guidance"] = c.clock_guidance ? py::object(py::float_(*c.clock_guidance)) : py::none();
  d["guidance_interval"] = py::make_tuple(c.guidance_from, c.guidance_to);
  d["tc"] = c.tc;
  d["seed"] = c.seed;
  d["window"] = c.window;
  d["overlap"] = c.overlap;
  return d;
}

py::array music_to_motion(Model& m, const py::object& audio, int64_t sample_rate, double fps,
                          const py::kwargs& kw) {
  const std::string method = "music_to_motion";
  const Options o(kw, method);
  Audio a;
  a.samples = audio_arg(audio);
  a.sample_rate_hz = sample_rate_arg(sample_rate);
  GenerateOptions g = generate_options(m, "music2motion", o, method);
  g.motion_fps = fps_arg(fps);
  const ProgressCallback progress = progress_callback(o, method);
  GeneratedMotion r;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(m.mutex());
    r = m.pipeline().music_to_motion(a, g, nullptr, progress);
  }
  return tensor_to_numpy(r.motion.joints);
}

py::tuple motion_to_music(Model& m, const py::object& joints, double fps,
                          const py::object& skeleton, const py::kwargs& kw) {
  const std::string method = "motion_to_music";
  const Options o(kw, method);
  const Motion motion = motion_arg(joints, fps, skeleton);
  const GenerateOptions g = generate_options(m, "motion2music", o, method);
  const ProgressCallback progress = progress_callback(o, method);
  GeneratedMusic r;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(m.mutex());
    r = m.pipeline().motion_to_music(motion, g, nullptr, progress);
  }
  return py::make_tuple(tensor_to_numpy(r.audio.samples), r.audio.sample_rate_hz);
}

py::tuple joint(Model& m, double seconds, const std::optional<double>& bpm, double fps,
                const py::kwargs& kw) {
  const std::string method = "joint";
  const Options o(kw, method);
  GenerateOptions g = generate_options(m, "joint", o, method);
  finite_in(seconds, 1.0, 3600.0, "joint(): seconds");
  if (bpm) g.bpm = finite_in(*bpm, 20.0, 400.0, "joint(): bpm");
  g.motion_fps = fps_arg(fps);
  const ProgressCallback progress = progress_callback(o, method);
  std::pair<GeneratedMusic, GeneratedMotion> r;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(m.mutex());
    r = m.pipeline().joint(seconds, g, nullptr, progress);
  }
  return py::make_tuple(tensor_to_numpy(r.second.motion.joints),
                        tensor_to_numpy(r.first.audio.samples), r.first.audio.sample_rate_hz);
}

constexpr const char* kSamplerDoc = R"doc(
Keyword options (None or absent: the model's default for the task, Model.default_sampler(task)):
  seed (int >= 0), steps (1-10000), sampler ("ddim", "dpmpp2m", "ddpm"), guidance (0-100),
  clock_guidance (0-100), guidance_interval ((from, to), fractions of T: guidance only at those
  timesteps), eta (0-1), tc (0-1, joint), window, overlap (latent frames),
  bone_postprocess (bool, default True), keep_on_floor (bool, default True),
  griffin_lim_iterations (0-10000, default 32), clock_shift (beats, -4..4) and beat_lock (bool)
  for the two one-way tasks, progress: a callable(step, total) called once per sampler step with
  the GIL held (raising from it stops the task). Ctrl-C stops a task at its next step.
Errors: momu.ConfigError (a bad option), momu.ShapeError / TypeError / momu.FormatError (a bad
array), with the library's messages.)doc";

}  // namespace

void register_model(py::module_& m) {
  py::class_<Model>(m, "Model", R"doc(
A loaded momu model: the BiCoR-VAE and its diffusion experts (a folder with vae/, motion2music/,
music2motion/). Model.load(path=None, device="cpu"); path None finds the default model: $MOMU_MODEL,
else the source tree's models/default, else the installed share/momu/models/default.)doc")
      .def_static("load", &Model::load, py::arg("path") = py::none(), py::arg("device") = "cpu",
                  "Loads a model folder (None: the default model) on a device (cpu, cuda, cuda:N).")
      .def_property_readonly("path", [](const Model& m) { return m.dir().string(); })
      .def_property_readonly("device", &Model::device)
      .def_property_readonly(
          "sample_rate", [](Model& m) { return m.pipeline().sample_rate_hz(); },
          "sample rate of generated music (Hz)")
      .def_property_readonly(
          "skeleton", [](Model& m) { return m.pipeline().skeleton(); },
          "skeleton of generated motion (dwm23)")
      .def_property_readonly(
          "schedule_timesteps", [](Model& m) { return m.pipeline().schedule_timesteps(); },
          "T of the experts' schedule (the most steps there can be)")
      .def(
          "default_sampler",
          [](Model& m, const std::string& task) {
            return sampler_dict(m.pipeline().default_samplers().of(task));
          },
          py::arg("task"),
          "The model's sampler settings for a task (music2motion, motion2music, joint) as a dict.")
      .def("music_to_motion", &music_to_motion, py::arg("audio"), py::arg("sample_rate"),
           py::arg("fps") = 30.0,
           (std::string(R"doc(
Dance for music: audio float [N] mono at sample_rate (any rate; resampled) -> joints float32
[T, 23, 3] on Model.skeleton (dwm23, cm, y up) at fps, T = round(N / sample_rate * fps).
)doc") + kSamplerDoc)
               .c_str())
      .def("motion_to_music", &motion_to_music, py::arg("joints"), py::arg("fps"),
           py::arg("skeleton") = "dwm23",
           (std::string(R"doc(
Music for a dance: joints [T, J, 3] at fps on `skeleton` (a name, a momu.Skeleton, or None to guess
from J; any 3D skeleton with recognisable joints is retargeted onto dwm23) -> (audio float32 [N],
sample_rate), of the motion's duration.
)doc") + kSamplerDoc)
               .c_str())
      .def("joint", &joint, py::arg("seconds"), py::arg("bpm") = py::none(), py::arg("fps") = 30.0,
           (std::string(R"doc(
Dance and music together, `seconds` long (1-3600) -> (joints float32 [T, 23, 3] at fps, audio
float32 [N], sample_rate). bpm (20-400): tempo of the shared beat clock; None: a training tempo
drawn with the seed.
)doc") + kSamplerDoc)
               .c_str())
      .def("__repr__", [](const Model& m) {
        return "momu.Model('" + m.dir().string() + "', device='" + m.device() + "')";
      });
}

}  // namespace momu::python

// momu.Skeleton and the file functions: load_audio, save_audio, load_motion, save_motion.
#include <ATen/ATen.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <optional>

#include "bindings.h"
#include "convert.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"

namespace momu::python {

namespace fs = std::filesystem;

namespace {

py::tuple load_audio_py(const fs::path& path, std::optional<int64_t> sample_rate, double offset,
                        std::optional<double> duration) {
  AudioLoadOptions o;
  if (sample_rate) o.target_rate_hz = sample_rate_arg(*sample_rate);
  o.offset_s = finite_in(offset, 0.0, 86400.0, "offset");
  if (duration) o.duration_s = finite_in(*duration, 0.0, 86400.0, "duration");
  Audio a;
  {
    py::gil_scoped_release release;
    a = load_audio(path, o);
  }
  return py::make_tuple(tensor_to_numpy(a.samples), a.sample_rate_hz);
}

void save_audio_py(const fs::path& path, const py::object& audio, int64_t sample_rate,
                   bool float32) {
  Audio a;
  a.samples = audio_arg(audio);
  a.sample_rate_hz = sample_rate_arg(sample_rate);
  py::gil_scoped_release release;
  write_wav(path, a, float32 ? WavSampleFormat::kFloat32 : WavSampleFormat::kPcm16);
}

py::tuple load_motion_py(const fs::path& path, std::optional<double> fps,
                         std::optional<std::string> skeleton) {
  MotionLoadOptions o;
  if (fps) o.fps = fps_arg(*fps);
  if (skeleton) o.skeleton = *skeleton;
  Motion m;
  {
    py::gil_scoped_release release;
    m = load_motion(path, o);
  }
  if (fps) m.fps = *fps;  // as the CLI's --fps: overrides the rate a file stores
  return py::make_tuple(tensor_to_numpy(m.joints), m.fps, m.skeleton);
}

void save_motion_py(const fs::path& path, const py::object& joints, double fps,
                    const py::object& skeleton) {
  const Motion m = motion_arg(joints, fps, skeleton);
  py::gil_scoped_release release;
  save_motion(path, m);
}

std::string skeleton_repr(const Skeleton& s) {
  return "momu.Skeleton('" + s.name + "', " + std::to_string(s.num_joints()) + " joints, " +
         std::to_string(s.dim) + "D" + (s.units.empty() ? "" : ", " + s.units) + ")";
}

}  // namespace

void register_io(py::module_& m) {
  py::class_<Skeleton>(m, "Skeleton", R"doc(
A skeleton: joint names, bones, kinematic tree, dimension and up axis (include/momu/motion/skeleton.h).
Skeleton.by_name("dwm23") gives a named one (momu.skeleton_names() lists them); load_motion returns
the skeleton of a file (for example a BVH's own). Every argument `skeleton=` takes a name or one of
these.)doc")
      .def_static("by_name", &skeleton_by_name, py::arg("name"),
                  "The skeleton called `name` (dwm23, openpose14, coco17, coco17_3d, smpl24).")
      .def_readonly("name", &Skeleton::name)
      .def_readonly("joint_names", &Skeleton::joint_names, "the J real joints")
      .def_property_readonly("num_joints", &Skeleton::num_joints)
      .def_property_readonly("num_points", &Skeleton::num_points, "real and virtual joints")
      .def_property_readonly(
          "virtual_joints",
          [](const Skeleton& s) {
            py::list out;
            for (const auto& v : s.virtual_joints) out.append(py::make_tuple(v.name, v.a, v.b));
            return out;
          },
          "(name, a, b): points that are the mean of real joints a and b")
      .def_readonly("bones", &Skeleton::bones, "drawing bones (parent point, child point)")
      .def_readonly("parents", &Skeleton::parents, "kinematic tree over the points (-1: root)")
      .def_readonly("dim", &Skeleton::dim, "2 or 3")
      .def_readonly("up_axis", &Skeleton::up_axis)
      .def_readonly("up_sign", &Skeleton::up_sign)
      .def_readonly("root", &Skeleton::root)
      .def_readonly("foot_joints", &Skeleton::foot_joints)
      .def_readonly("units", &Skeleton::units, "cm, m, px or '' when unknown")
      .def("__eq__", [](const Skeleton& a, const Skeleton& b) { return a == b; })
      .def("__repr__", &skeleton_repr);
  m.def("skeleton_names", &skeleton_names, "Names Skeleton.by_name accepts.");

  m.def("load_audio", &load_audio_py, py::arg("path"), py::arg("sample_rate") = py::none(),
        py::kw_only(), py::arg("offset") = 0.0, py::arg("duration") = py::none(),
        R"doc(
Reads WAV, FLAC, OGG or MP3, averaged to mono -> (audio float32 [N], sample_rate).

sample_rate: resample to this rate (libsoxr, as the CLI); None keeps the file's.
offset, duration: seconds to skip at the start, and the most to read (None: to the end).
Raises momu.IoError when the file cannot be opened, momu.FormatError when it is corrupt.)doc");
  m.def("save_audio", &save_audio_py, py::arg("path"), py::arg("audio"), py::arg("sample_rate"),
        py::kw_only(), py::arg("float32") = false,
        "Writes mono audio [N] as a WAV (16-bit PCM, clipped to [-1, 1]; float32=True: 32-bit "
        "float), atomically.");
  m.def("load_motion", &load_motion_py, py::arg("path"), py::arg("fps") = py::none(),
        py::arg("skeleton") = py::none(), R"doc(
Reads a motion (.json, .npy, .bvh, or a Dance with Melody folder) -> (joints float32 [T, J, D],
fps, momu.Skeleton).

fps: the frame rate of an .npy (which stores none; default 25); for other formats, when given, it
replaces the stored rate (as the CLI's --fps).
skeleton: a name; for an .npy the layout of the array (default: guessed from J and D), for other
files the joints kept by name (for example "dwm23" from a BVH that momu wrote).)doc");
  m.def("save_motion", &save_motion_py, py::arg("path"), py::arg("joints"), py::arg("fps"),
        py::arg("skeleton") = py::none(), R"doc(
Writes joints [T, J, D] at fps as .json (momu-motion), .npy ([T, J, D] float32) or .bvh (3D with
a kinematic tree: rotations from bone directions), chosen by the extension, atomically.

skeleton: a name, a momu.Skeleton, or None (guessed from J and D: [T, 23, 3] is dwm23).)doc");
}

}  // namespace momu::python

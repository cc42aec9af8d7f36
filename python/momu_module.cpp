// The Python module `momu` (pybind11): the library's generation, file, metric and feature
// functions on numpy arrays. Built by CMake into build/python/ when pybind11 is found
// (README, "Python"); this file only assembles the parts (python/bindings.h).
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "momu/core/runtime.h"

namespace py = pybind11;

PYBIND11_MODULE(momu, m) {
  m.doc() = R"doc(
momu: dance motion from music and music from motion (MoMu-Diffusion), in C++ with LibTorch.

    import momu
    model = momu.Model.load()                       # the default model
    audio, sr = momu.load_audio("song.ogg")
    joints = model.music_to_motion(audio, sr, steps=25, seed=1)   # float32 [T, 23, 3] at 30 fps
    momu.save_motion("dance.bvh", joints, 30)
    music, sr2 = model.motion_to_music(joints, 30)
    momu.eval.bas(joints, 30, audio, sr)["bas"]

Arrays are numpy (float32 out; float64 in is converted). Library errors are momu.Error
subclasses (IoError is also an OSError; FormatError, ConfigError and ShapeError are ValueErrors)
with the library's messages. The GIL is released while the library computes.)doc";
  m.attr("__version__") = MOMU_VERSION;
  momu::python::register_errors(m);
  momu::python::register_io(m);
  momu::python::register_model(m);
  momu::python::register_eval(m);
  m.def("set_threads", &momu::configure_threads, py::arg("threads") = 0,
        "Sets LibTorch's intra-op threads (0: every core); returns the number in force.");
}

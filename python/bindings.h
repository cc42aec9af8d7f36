// The parts of the Python module `momu` (python/momu_module.cpp), one per area.
#pragma once

#include <pybind11/pybind11.h>

namespace momu::python {

namespace py = pybind11;

// momu.Error and its subclasses; the translator from the library's exceptions (errors.cpp).
void register_errors(py::module_& m);
// momu.Skeleton, load_audio, save_audio, load_motion, save_motion (io_bindings.cpp).
void register_io(py::module_& m);
// momu.Model: load, music_to_motion, motion_to_music, joint (model_bindings.cpp).
void register_model(py::module_& m);
// momu.eval (blc, bas, beat_scores, fid_k) and momu.features (onsets, beats, kinematic_beats,
// kinetic_features) (eval_bindings.cpp).
void register_eval(py::module_& m);

}  // namespace momu::python

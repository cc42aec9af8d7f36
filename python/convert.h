// The boundary between Python and the momu library: numpy arrays in and out, argument checks
// (dtype, shape, finiteness, ranges) with messages that name the argument and the expected shape.
// Not part of the library: only the Python module (python/momu_module.cpp) uses it.
#pragma once

#include <ATen/core/Tensor.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "momu/motion/motion.h"

namespace momu::python {

namespace py = pybind11;

// A numpy-convertible argument (ndarray, list, ...) as a contiguous CPU tensor of `dtype`
// (float32 or float64), copied. Raises TypeError for a non-real dtype (and for integers unless
// allow_int: integer audio samples need scaling), momu.ShapeError when the rank is not in
// `ndims` or a dimension is empty, momu.FormatError for NaN or infinite values.
// `name` and `shape` go into the messages: "audio: expected [N] float samples, got shape (2, 5)".
at::Tensor tensor_arg(const py::handle& obj, const std::string& name, const std::string& shape,
                      std::initializer_list<int> ndims, bool allow_int,
                      at::ScalarType dtype = at::kFloat);

// Mono audio [N] float32 (float64 converted), N >= 1.
at::Tensor audio_arg(const py::handle& obj, const std::string& name = "audio");

// A sample rate in [1, 1000000] (momu.ConfigError otherwise).
int sample_rate_arg(int64_t sample_rate, const std::string& name = "sample_rate");

// A finite number in [min, max] (momu.ConfigError otherwise, naming the argument).
double finite_in(double v, double min, double max, const std::string& name);

// A motion frame rate: finite_in(v, 1, 1000, name).
double fps_arg(double v, const std::string& name = "fps");

// A skeleton argument: a name ("dwm23", ...), a momu.Skeleton, or None (guessed from J and D).
Skeleton skeleton_arg(const py::handle& obj, int num_joints, int dim);

// joints [T, J, D] (or [T, J*D] with a named skeleton) at fps on `skeleton` as a validated Motion.
// momu.ShapeError when the array does not fit the skeleton, naming both.
Motion motion_arg(const py::handle& joints, double fps, const py::handle& skeleton,
                  const std::string& name = "joints");

// Copies into new numpy arrays (call with the GIL held).
py::array tensor_to_numpy(const at::Tensor& t);  // float32 -> float32, float64 -> float64
py::array_t<int64_t> int_vector_to_numpy(const std::vector<int64_t>& v);
py::array_t<double> double_vector_to_numpy(const std::vector<double>& v);

}  // namespace momu::python

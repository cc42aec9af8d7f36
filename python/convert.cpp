#include "convert.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "momu/core/error.h"

namespace momu::python {

namespace {

std::string shape_text(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    s << (i ? ", " : "") << a.shape(i);
  }
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

std::string dtype_text(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

std::string ndims_text(std::initializer_list<int> ndims) {
  std::string s;
  size_t i = 0;
  for (int n : ndims) {
    s += (i == 0 ? "" : (i + 1 == ndims.size() ? " or " : ", ")) + std::to_string(n) + "-D";
    ++i;
  }
  return s;
}

}  // namespace

at::Tensor tensor_arg(const py::handle& obj, const std::string& name, const std::string& shape,
                      std::initializer_list<int> ndims, bool allow_int, at::ScalarType dtype) {
  if (obj.is_none()) throw py::type_error(name + ": expected an array " + shape + ", got None");
  py::array a;
  try {
    a = py::module_::import("numpy").attr("asarray")(obj);
  } catch (const py::error_already_set& e) {
    throw py::type_error(name + ": expected an array " + shape + " (" + e.what() + ")");
  }
  const char kind = a.dtype().kind();
  const bool is_float = kind == 'f';
  const bool is_int = kind == 'i' || kind == 'u';
  if (!is_float && !(is_int && allow_int)) {
    std::string hint;
    if (is_int) hint = " (integer audio samples: divide by 32768 for int16)";
    throw py::type_error(name + ": expected a float array " + shape + ", got dtype " +
                         dtype_text(a) + hint);
  }
  if (std::find(ndims.begin(), ndims.end(), static_cast<int>(a.ndim())) == ndims.end()) {
    throw ShapeError(name + ": expected " + shape + " (" + ndims_text(ndims) + "), got shape " +
                     shape_text(a));
  }
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (a.shape(i) == 0) {
      throw ShapeError(name + ": expected " + shape + " with no empty dimension, got shape " +
                       shape_text(a));
    }
  }
  std::vector<int64_t> sizes(a.shape(), a.shape() + a.ndim());
  at::Tensor t = at::empty(sizes, at::TensorOptions().dtype(dtype));
  if (dtype == at::kDouble) {
    auto c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!c) throw py::error_already_set();
    std::memcpy(t.data_ptr<double>(), c.data(), sizeof(double) * static_cast<size_t>(c.size()));
  } else {
    auto c = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!c) throw py::error_already_set();
    std::memcpy(t.data_ptr<float>(), c.data(), sizeof(float) * static_cast<size_t>(c.size()));
  }
  if (is_float && !at::isfinite(t).all().item<bool>()) {
    const int64_t bad = (~at::isfinite(t)).sum().item<int64_t>();
    throw FormatError(name + ": " + std::to_string(bad) + " of " + std::to_string(t.numel()) +
                      " values are NaN or infinite" +
                      (dtype == at::kFloat && a.dtype().itemsize() > 4 ? " (as float32)" : ""));
  }
  return t;
}

at::Tensor audio_arg(const py::handle& obj, const std::string& name) {
  return tensor_arg(obj, name, "[N] mono samples", {1}, /*allow_int=*/false);
}

double finite_in(double v, double min, double max, const std::string& name) {
  if (!std::isfinite(v) || v < min || v > max) {
    std::ostringstream s;
    s << name << " must be a number in [" << min << ", " << max << "], got " << v;
    throw ConfigError(s.str());
  }
  return v;
}

int sample_rate_arg(int64_t sample_rate, const std::string& name) {
  if (sample_rate < 1 || sample_rate > 1000000) {
    throw ConfigError(name + " must be in [1, 1000000] Hz, got " + std::to_string(sample_rate));
  }
  return static_cast<int>(sample_rate);
}

double fps_arg(double v, const std::string& name) { return finite_in(v, 1.0, 1000.0, name); }

Skeleton skeleton_arg(const py::handle& obj, int num_joints, int dim) {
  if (obj.is_none()) return guess_skeleton(num_joints, dim);
  if (py::isinstance<py::str>(obj)) {
    const std::string name = obj.cast<std::string>();
    if (name.empty()) return guess_skeleton(num_joints, dim);
    return skeleton_by_name(name);  // ConfigError listing the known names
  }
  try {
    return obj.cast<Skeleton>();
  } catch (const py::cast_error&) {
    throw py::type_error("skeleton: expected a name (" +
                         std::string("dwm23, openpose14, coco17, ") +
                         "coco17_3d, smpl24), a momu.Skeleton or None, got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
}

Motion motion_arg(const py::handle& joints, double fps, const py::handle& skeleton,
                  const std::string& name) {
  fps_arg(fps);
  at::Tensor a = tensor_arg(joints, name, "[T, J, D] joint positions", {2, 3}, /*allow_int=*/true);
  Motion m;
  m.fps = fps;
  if (a.dim() == 2) {  // [T, J*D]: the skeleton gives J and D
    if (skeleton.is_none()) {
      throw ShapeError(name +
                       ": a 2-D array [T, J*D] needs skeleton= to give J and D; got shape (" +
                       std::to_string(a.size(0)) + ", " + std::to_string(a.size(1)) + ")");
    }
    m.skeleton = skeleton_arg(skeleton, 0, 0);
    const int64_t jd = static_cast<int64_t>(m.skeleton.num_joints()) * m.skeleton.dim;
    if (a.size(1) != jd) {
      throw ShapeError(name + ": expected [T, " + std::to_string(jd) +
                       "] ([T, J*D]) for skeleton '" + m.skeleton.name + "', got shape (" +
                       std::to_string(a.size(0)) + ", " + std::to_string(a.size(1)) + ")");
    }
    a = a.reshape({a.size(0), m.skeleton.num_joints(), m.skeleton.dim});
  } else {
    m.skeleton = skeleton_arg(skeleton, static_cast<int>(a.size(1)), static_cast<int>(a.size(2)));
    if (a.size(1) != m.skeleton.num_joints() || a.size(2) != m.skeleton.dim) {
      throw ShapeError(name + ": expected [T, " + std::to_string(m.skeleton.num_joints()) + ", " +
                       std::to_string(m.skeleton.dim) + "] for skeleton '" + m.skeleton.name +
                       "', got shape (" + std::to_string(a.size(0)) + ", " +
                       std::to_string(a.size(1)) + ", " + std::to_string(a.size(2)) +
                       "); pass skeleton= the array's skeleton (a name or a momu.Skeleton)");
    }
  }
  m.joints = a.contiguous();
  m.validate(name);
  return m;
}

py::array tensor_to_numpy(const at::Tensor& t) {
  const at::Tensor c = t.detach().cpu().contiguous();
  std::vector<py::ssize_t> shape(c.sizes().begin(), c.sizes().end());
  if (c.scalar_type() == at::kDouble) {
    py::array_t<double> out(shape);
    std::memcpy(out.mutable_data(), c.data_ptr<double>(), sizeof(double) * c.numel());
    return std::move(out);
  }
  const at::Tensor f = c.scalar_type() == at::kFloat ? c : c.to(at::kFloat);
  py::array_t<float> out(shape);
  std::memcpy(out.mutable_data(), f.data_ptr<float>(), sizeof(float) * f.numel());
  return std::move(out);
}

py::array_t<int64_t> int_vector_to_numpy(const std::vector<int64_t>& v) {
  py::array_t<int64_t> out(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::memcpy(out.mutable_data(), v.data(), sizeof(int64_t) * v.size());
  return out;
}

py::array_t<double> double_vector_to_numpy(const std::vector<double>& v) {
  py::array_t<double> out(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::memcpy(out.mutable_data(), v.data(), sizeof(double) * v.size());
  return out;
}

}  // namespace momu::python

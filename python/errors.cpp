// The library's exceptions (include/momu/core/error.h) as Python exceptions with the same
// messages:
//   momu.Error(Exception)                 any other momu::Error, and LibTorch's own checks
//   momu.IoError(momu.Error, OSError)     a file or folder could not be opened, read or written
//   momu.FormatError(momu.Error, ValueError)  content is wrong: corrupt file, NaN, bad shape in a
//   file momu.ConfigError(momu.Error, ValueError)  an option or configuration value is invalid
//   momu.ShapeError(momu.Error, ValueError)   an array has the wrong shape, dtype or length
#include <c10/util/Exception.h>
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "momu/core/error.h"

namespace momu::python {

namespace {

// Owned by the module (its attributes); the translator only borrows them. Set once at import.
PyObject* g_error = nullptr;
PyObject* g_io = nullptr;
PyObject* g_format = nullptr;
PyObject* g_config = nullptr;
PyObject* g_shape = nullptr;

PyObject* new_exception(py::module_& m, const char* name, py::tuple bases, const char* doc) {
  const std::string qualified = std::string("momu.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::handle(type));  // the module holds one reference, the translator ours
  return type;
}

}  // namespace

void register_errors(py::module_& m) {
  const py::handle exception(PyExc_Exception), os_error(PyExc_OSError),
      value_error(PyExc_ValueError);
  g_error = new_exception(m, "Error", py::make_tuple(exception),
                          "Base of every error the momu library raises.");
  const py::handle base(g_error);
  g_io = new_exception(m, "IoError", py::make_tuple(base, os_error),
                       "A file or folder could not be opened, read or written.");
  g_format = new_exception(
      m, "FormatError", py::make_tuple(base, value_error),
      "Content is wrong: a corrupt or truncated file, NaN or infinite values, a wrong rate.");
  g_config = new_exception(m, "ConfigError", py::make_tuple(base, value_error),
                           "An option or configuration value is invalid or inconsistent.");
  g_shape = new_exception(m, "ShapeError", py::make_tuple(base, value_error),
                          "An array has the wrong shape, dtype or length for the operation.");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const IoError& e) {
      PyErr_SetString(g_io, e.what());
    } catch (const FormatError& e) {
      PyErr_SetString(g_format, e.what());
    } catch (const ConfigError& e) {
      PyErr_SetString(g_config, e.what());
    } catch (const ShapeError& e) {
      PyErr_SetString(g_shape, e.what());
    } catch (const Error& e) {
      PyErr_SetString(g_error, e.what());
    } catch (const c10::Error& e) {
      // A LibTorch check inside the library: its message without the C++ backtrace.
      PyErr_SetString(g_error, e.msg().c_str());
    }
  });
}

}  // namespace momu::python

// Exception hierarchy of the momu library. Every message says what went wrong, where (a file,
// a field, a tensor) and, where it can, how to fix it. The CLI catches once in main() and maps
// each type to a documented exit code (see exit_code()).
#pragma once

#include <stdexcept>
#include <string>

namespace momu {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file or folder could not be opened, read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

// A file was read but its content is wrong: corrupt, truncated, wrong shape, NaN, wrong rate.
class FormatError : public Error {
 public:
  using Error::Error;
};

// A configuration value (JSON field, option) is invalid or inconsistent.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A tensor has the wrong shape, dtype or length for the operation.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// Runs f(); a ShapeError it throws about its input (a motion too short for a beat clock, say)
// comes back with the input's name in front: "<files>: <what>" (errors name the file).
template <typename F>
auto naming_input(const std::string& files, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ShapeError& e) {
    throw ShapeError(files + ": " + e.what());
  }
}

// Documented process exit codes of the momu command line.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,     // any other failure
  kExitUsage = 2,     // bad command line
  kExitIo = 3,        // IoError
  kExitFormat = 4,    // FormatError
  kExitConfig = 5,    // ConfigError
  kExitShape = 6,     // ShapeError
};

}  // namespace momu

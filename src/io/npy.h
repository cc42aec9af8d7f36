// NumPy .npy files (format versions 1.0, 2.0 and 3.0; C order; little- or big-endian numbers).
// Debian ships no npy library for C++ (no cnpy package), so this is our own, after
// numpy/lib/format.py: magic "\x93NUMPY", major, minor, a little-endian header length (2 bytes in
// v1, 4 in v2/v3), then a Python dict literal {'descr': '<f4', 'fortran_order': False,
// 'shape': (T, J, D), } padded with spaces to a multiple of 64 bytes and ended by '\n', then the
// raw data.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace momu {

struct NpyArray {
  std::string descr;           // the dtype as stored, e.g. "<f4", "<i8", "|u1"
  std::vector<int64_t> shape;  // () for a scalar
  at::Tensor data;             // CPU tensor of `shape`: float32 (f4), float64 (f8), int64 (i8,
                               // u4), int32 (i4, u2), int16 (i2), int8 (i1), uint8 (u1), bool (b1)
};

// Parses .npy bytes. `what` names the source in messages. Throws FormatError on a bad magic or
// header, an unsupported dtype (e.g. '<f2', objects, strings, u8), Fortran order, and data that is
// shorter (truncated) or longer than the header says.
NpyArray parse_npy(const std::string& bytes, const std::string& what);

// Reads a .npy file; IoError when it cannot be read, FormatError as parse_npy.
NpyArray read_npy(const std::filesystem::path& path);

// Serialises a tensor (float32/64, int64/32/16/8, uint8, bool; any shape; made contiguous, CPU)
// as a little-endian C-order .npy, version 1.0 (2.0 when the header needs it).
std::string npy_bytes(const at::Tensor& tensor);

// Writes npy_bytes(tensor) to `path` atomically.
void write_npy(const std::filesystem::path& path, const at::Tensor& tensor);

}  // namespace momu

// safetensors files (https://github.com/huggingface/safetensors format): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
// then the raw little-endian tensor bytes. Used for model weights and the prepared-data cache.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>

namespace momu {

struct SafetensorsFile {
  std::map<std::string, at::Tensor> tensors;      // CPU, contiguous
  std::map<std::string, std::string> metadata;    // the "__metadata__" object
};

// Writes atomically; tensors are moved to the CPU and made contiguous. Supported dtypes: F64, F32,
// F16, BF16, I64, I32, I16, I8, U8, BOOL. Throws IoError on write failure.
void save_safetensors(const std::filesystem::path& path,
                      const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates the whole file (header size, JSON, dtypes, shapes against byte ranges,
// ranges inside the file and not overlapping). Throws IoError / FormatError naming the file.
SafetensorsFile load_safetensors(const std::filesystem::path& path);

// The safetensors name of a dtype ("F32", "I64", ...). Throws ShapeError for an unsupported one.
const char* safetensors_dtype_name(at::ScalarType type);

}  // namespace momu

#include "io/safetensors.h"

#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/atomic_file.h"
#include "io/io_limits.h"
#include "momu/core/error.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

struct DtypeName {
  at::ScalarType type;
  const char* name;
};

const DtypeName kDtypes[] = {
    {torch::kFloat64, "F64"}, {torch::kFloat32, "F32"}, {torch::kFloat16, "F16"},
    {torch::kBFloat16, "BF16"}, {torch::kInt64, "I64"}, {torch::kInt32, "I32"},
    {torch::kInt16, "I16"},    {torch::kInt8, "I8"},     {torch::kUInt8, "U8"},
    {torch::kBool, "BOOL"}};


bool dtype_from_name(const std::string& name, at::ScalarType& out) {
  for (const auto& d : kDtypes) {
    if (name == d.name) {
      out = d.type;
      return true;
    }
  }
  return false;
}

}  // namespace

const char* safetensors_dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (d.type == type) return d.name;
  }
  throw ShapeError(std::string("safetensors: unsupported dtype ") + c10::toString(type));
}

void save_safetensors(const fs::path& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, at::Tensor>> items;
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") throw ConfigError("safetensors: '__metadata__' is reserved");
    if (!tensor.defined()) throw ShapeError("safetensors: tensor '" + name + "' is undefined");
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", safetensors_dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    items.emplace_back(name, t);
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // align the data to 8 bytes
  write_file_atomically(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw IoError(tmp.string() + ": cannot open for writing");
    errno = 0;  // what a failed write says (EFBIG past ulimit -f, ENOSPC)
    uint64_t n = head.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    for (const auto& [name, t] : items) {
      out.write(static_cast<const char*>(t.data_ptr()),
                static_cast<std::streamsize>(t.numel() * t.element_size()));
    }
    out.flush();
    if (!out) {
      const int err = errno;
      throw IoError(path.string() + ": write failed: " +
                    (err != 0 ? std::string(std::strerror(err)) : std::string("disk full?")));
    }
  });
}

SafetensorsFile load_safetensors(const fs::path& path) {
  const std::string name = path.string();
  const std::string bytes = read_file_bytes(path);
  if (bytes.size() < 8) throw FormatError(name + ": not a safetensors file (shorter than 8 bytes)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  if (n > kMaxHeaderBytes || 8 + n > bytes.size()) {
    throw FormatError(name + ": corrupt or truncated safetensors header (length " +
                      std::to_string(n) + ", file " + std::to_string(bytes.size()) + " bytes)");
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(name + ": safetensors header is not valid JSON (" + e.what() + ")");
  }
  if (!header.is_object()) throw FormatError(name + ": safetensors header is not a JSON object");
  const uint64_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;
  SafetensorsFile file;
  // Every entry is checked (dtype, shape, byte range inside the file, no overlap) before any
  // tensor is allocated, so no header can make the reader allocate more than the file holds.
  struct Entry {
    std::string key;
    at::ScalarType type{};
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw FormatError(name + ": __metadata__ must be an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw FormatError(name + ": __metadata__ values must be strings");
        file.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const std::string where = name + ": tensor " + io_limits::quoted_excerpt(it.key(), 80);
    Entry e;
    e.key = it.key();
    try {
      if (!it->is_object()) throw FormatError(where + ": entry must be an object");
      if (!dtype_from_name(it->at("dtype").get<std::string>(), e.type)) {
        throw FormatError(where + ": unsupported dtype " + it->at("dtype").dump());
      }
      // Whole numbers only: nlohmann converts 1e300 or 2.5 to an integer with a plain cast.
      const auto all_whole = [](const nlohmann::json& a, bool non_negative) {
        if (!a.is_array()) return true;  // get<> below names the wrong type
        for (const auto& v : a) {
          if (!(non_negative ? v.is_number_unsigned() : v.is_number_integer())) return false;
        }
        return true;
      };
      if (!all_whole(it->at("shape"), false)) {
        throw FormatError(where + ": shape must hold whole numbers, got " + it->at("shape").dump());
      }
      if (!all_whole(it->at("data_offsets"), true)) {
        throw FormatError(where + ": data_offsets must hold whole numbers >= 0, got " +
                          it->at("data_offsets").dump());
      }
      e.shape = it->at("shape").get<std::vector<int64_t>>();
      const auto offsets = it->at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2) throw FormatError(where + ": data_offsets must have 2 entries");
      e.begin = offsets[0];
      e.end = offsets[1];
    } catch (const nlohmann::json::exception& ex) {
      throw FormatError(where + ": malformed entry (" + ex.what() + ")");
    }
    if (e.shape.size() > io_limits::kMaxDims) {
      throw FormatError(where + ": shape has " + std::to_string(e.shape.size()) +
                        " dimensions (at most " + std::to_string(io_limits::kMaxDims) + ")");
    }
    for (int64_t d : e.shape) {
      if (d < 0) throw FormatError(where + ": negative dimension");
    }
    const int64_t numel = io_limits::checked_numel(e.shape);
    const uint64_t item = c10::elementSize(e.type);
    if (numel < 0 || static_cast<uint64_t>(numel) > data_size / item) {
      throw FormatError(where + ": shape " + io_limits::shape_string(e.shape) + " of " +
                        it->at("dtype").get<std::string>() + " needs more than the file's " +
                        std::to_string(data_size) + " data bytes (corrupt header or truncated)");
    }
    if (e.end < e.begin || e.end > data_size ||
        e.end - e.begin != static_cast<uint64_t>(numel) * item) {
      throw FormatError(where + ": byte range [" + std::to_string(e.begin) + ", " +
                        std::to_string(e.end) + ") does not match its shape or the file (" +
                        std::to_string(data_size) + " data bytes; truncated?)");
    }
    entries.push_back(std::move(e));
  }
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& e : entries) ranges.emplace_back(e.begin, e.end);
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      throw FormatError(name + ": tensors overlap in the data section");
    }
  }
  for (const auto& e : entries) {
    auto t = torch::empty(e.shape, torch::TensorOptions().dtype(e.type));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), data + e.begin, e.end - e.begin);
    file.tensors[e.key] = t;
  }
  return file;
}

}  // namespace momu

#include "io/npy.h"

#include <torch/torch.h>

#include <cctype>
#include <cstring>

#include "core/atomic_file.h"
#include "io/io_limits.h"
#include "momu/core/error.h"

namespace momu {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  bool has_descr = false, has_order = false, has_shape = false;
};

// A minimal reader of the Python dict literal numpy writes.
class DictParser {
 public:
  DictParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  Header parse() {
    Header h;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      skip_space();
      if (key == "descr") {
        h.descr = parse_string();
        h.has_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = parse_bool();
        h.has_order = true;
      } else if (key == "shape") {
        h.shape = parse_tuple();
        h.has_shape = true;
      } else {
        fail("unexpected key " + io_limits::quoted_excerpt(key));
      }
      skip_space();
      if (peek() == ',') ++i_;
    }
    if (!h.has_descr || !h.has_order || !h.has_shape) {
      fail("the header must have 'descr', 'fortran_order' and 'shape'");
    }
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw FormatError(what_ + ": bad .npy header (" + msg + "): " + s_);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string parse_string() {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    const size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      return false;
    }
    fail("fortran_order must be True or False");
  }
  std::vector<int64_t> parse_tuple() {
    expect('(');
    std::vector<int64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++i_;
        return dims;
      }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("shape must hold integers");
      int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        v = v * 10 + (s_[i_++] - '0');
        if (v > (int64_t{1} << 48)) fail("dimension too large");
      }
      if (peek() == 'L') ++i_;  // Python 2 long
      dims.push_back(v);
      if (dims.size() > io_limits::kMaxDims) {
        fail("more than " + std::to_string(io_limits::kMaxDims) + " dimensions");
      }
      skip_space();
      if (peek() == ',')
        ++i_;
      else if (peek() != ')')
        fail("expected ',' or ')' in shape");
    }
  }

  const std::string& s_;
  const std::string& what_;
  size_t i_ = 0;
};

struct DtypeInfo {
  char kind = 0;     // 'f', 'i', 'u', 'b'
  int size = 0;      // bytes per item
  bool big = false;  // big-endian
  at::ScalarType out = at::kFloat;
};

DtypeInfo dtype_info(const std::string& descr, const std::string& what) {
  if (descr.size() < 3) throw FormatError(what + ": unsupported .npy dtype " + io_limits::quoted_excerpt(descr));
  DtypeInfo d;
  const char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') {
    throw FormatError(what + ": unsupported .npy dtype " + io_limits::quoted_excerpt(descr));
  }
  d.big = order == '>';
  d.kind = descr[1];
  const std::string size = descr.substr(2);
  d.size = (size == "1" || size == "2" || size == "4" || size == "8") ? std::stoi(size) : 0;
  const std::string k(1, d.kind);
  if (k == "f" && d.size == 4)
    d.out = at::kFloat;
  else if (k == "f" && d.size == 8)
    d.out = at::kDouble;
  else if (k == "i" && d.size == 8)
    d.out = at::kLong;
  else if (k == "i" && d.size == 4)
    d.out = at::kInt;
  else if (k == "i" && d.size == 2)
    d.out = at::kShort;
  else if (k == "i" && d.size == 1)
    d.out = at::kChar;
  else if (k == "u" && d.size == 1)
    d.out = at::kByte;
  else if (k == "u" && d.size == 2)
    d.out = at::kInt;
  else if (k == "u" && d.size == 4)
    d.out = at::kLong;
  else if (k == "b" && d.size == 1)
    d.out = at::kBool;
  else {
    throw FormatError(what + ": unsupported .npy dtype '" + descr +
                      "' (supported: float32/64, int8/16/32/64, uint8/16/32, bool)");
  }
  return d;
}

// Little-endian value of `size` bytes at p (byte-swapped for big-endian data).
template <typename T>
T load(const char* p, bool big) {
  T v;
  if (!big) {
    std::memcpy(&v, p, sizeof(T));
  } else {
    char tmp[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) tmp[i] = p[sizeof(T) - 1 - i];
    std::memcpy(&v, tmp, sizeof(T));
  }
  return v;
}

template <typename In, typename Out>
void convert(const char* src, int64_t n, bool big, Out* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<In>(src + i * sizeof(In), big));
}

std::string descr_of(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return "<f4";
    case at::kDouble:
      return "<f8";
    case at::kLong:
      return "<i8";
    case at::kInt:
      return "<i4";
    case at::kShort:
      return "<i2";
    case at::kChar:
      return "|i1";
    case at::kByte:
      return "|u1";
    case at::kBool:
      return "|b1";
    default:
      throw ShapeError(std::string("npy: cannot write dtype ") + c10::toString(t) +
                       " (supported: float32/64, int64/32/16/8, uint8, bool)");
  }
}

}  // namespace

NpyArray parse_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0) {
    throw FormatError(what + ": not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw FormatError(what + ": truncated .npy header");
    for (int i = 0; i < 4; ++i) {
      header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    }
    offset = 12;
  } else {
    throw FormatError(what + ": unsupported .npy format version " + std::to_string(major) + "." +
                      std::to_string(static_cast<unsigned char>(bytes[7])));
  }
  if (bytes.size() < offset + header_len) {
    throw FormatError(what + ": truncated .npy header (" + std::to_string(header_len) +
                      " bytes announced, " + std::to_string(bytes.size() - offset) + " present)");
  }
  const std::string text = bytes.substr(offset, header_len);
  const Header h = DictParser(text, what).parse();
  if (h.fortran_order) {
    throw FormatError(what +
                      ": Fortran-order arrays are not supported; save it with "
                      "numpy.save(path, numpy.ascontiguousarray(a))");
  }
  const DtypeInfo d = dtype_info(h.descr, what);
  // The data size is checked against the file before anything is allocated; a shape whose
  // element count overflows cannot describe any file.
  const int64_t n = io_limits::checked_numel(h.shape);
  const size_t data_offset = offset + header_len;
  const size_t have = bytes.size() - data_offset;
  if (n < 0 || static_cast<uint64_t>(n) > UINT64_MAX / static_cast<uint64_t>(d.size)) {
    throw FormatError(what + ": .npy header claims shape " + io_limits::shape_string(h.shape) +
                      ", whose element count overflows (corrupt header; " + std::to_string(have) +
                      " data bytes present)");
  }
  const size_t want = static_cast<size_t>(n) * d.size;
  if (have < want) {
    throw FormatError(what + ": truncated .npy data (shape " + io_limits::shape_string(h.shape) +
                      " of '" + h.descr + "' needs " + std::to_string(want) + " bytes, " +
                      std::to_string(have) + " present)");
  }
  if (have > want) {
    throw FormatError(what + ": " + std::to_string(have - want) +
                      " bytes after the .npy data (shape " + io_limits::shape_string(h.shape) +
                      " of '" + h.descr + "')");
  }
  NpyArray a;
  a.descr = h.descr;
  a.shape = h.shape;
  a.data = torch::empty(h.shape, torch::TensorOptions().dtype(d.out));
  const char* src = bytes.data() + data_offset;
  const std::string key = std::string(1, d.kind) + std::to_string(d.size);
  if (key == "f4")
    convert<float>(src, n, d.big, a.data.data_ptr<float>());
  else if (key == "f8")
    convert<double>(src, n, d.big, a.data.data_ptr<double>());
  else if (key == "i8")
    convert<int64_t>(src, n, d.big, a.data.data_ptr<int64_t>());
  else if (key == "i4")
    convert<int32_t>(src, n, d.big, a.data.data_ptr<int32_t>());
  else if (key == "i2")
    convert<int16_t>(src, n, d.big, a.data.data_ptr<int16_t>());
  else if (key == "i1")
    convert<int8_t>(src, n, false, a.data.data_ptr<int8_t>());
  else if (key == "u1")
    convert<uint8_t>(src, n, false, a.data.data_ptr<uint8_t>());
  else if (key == "u2")
    convert<uint16_t>(src, n, d.big, a.data.data_ptr<int32_t>());
  else if (key == "u4")
    convert<uint32_t>(src, n, d.big, a.data.data_ptr<int64_t>());
  else if (key == "b1") {
    auto* out = a.data.data_ptr<bool>();
    for (int64_t i = 0; i < n; ++i) out[i] = src[i] != 0;
  }
  return a;
}

NpyArray read_npy(const std::filesystem::path& path) {
  return parse_npy(read_file_bytes(path), path.string());
}

std::string npy_bytes(const at::Tensor& tensor) {
  if (!tensor.defined()) throw ShapeError("npy: cannot write an undefined tensor");
  const std::string descr = descr_of(tensor.scalar_type());
  auto t = tensor.cpu().contiguous();
  std::string shape = "(";
  for (int64_t i = 0; i < t.dim(); ++i) {
    shape += std::to_string(t.size(i)) + (t.dim() == 1 ? ",)" : i + 1 < t.dim() ? ", " : ")");
  }
  if (t.dim() == 0) shape += ")";
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that magic + version + length + header (ended by '\n') is a multiple of 64.
  bool v2 = false;
  size_t prefix = 10;
  size_t total = prefix + header.size() + 1;
  if (total - prefix > 65535) {
    v2 = true;
    prefix = 12;
    total = prefix + header.size() + 1;
  }
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(v2 ? 2 : 1);
  out += static_cast<char>(0);
  const size_t len = header.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (v2) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  out += header;
  out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

void write_npy(const std::filesystem::path& path, const at::Tensor& tensor) {
  write_bytes_atomically(path, npy_bytes(tensor));
}

}  // namespace momu

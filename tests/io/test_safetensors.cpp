#include <torch/torch.h>

#include <fstream>

#include "core/atomic_file.h"
#include "io/safetensors.h"
#include "momu/core/error.h"
#include "test_util.h"

using namespace momu;

TEST(Safetensors, RoundTripKeepsValuesDtypesAndMetadata) {
  test::TempDir tmp;
  std::map<std::string, at::Tensor> t{{"a", torch::randn({3, 4})},
                                      {"b", torch::arange(7, torch::kInt64)},
                                      {"c", torch::randn({2}, torch::kFloat64)},
                                      {"empty", torch::zeros({0, 5})},
                                      {"mask", torch::tensor({true, false})}};
  save_safetensors(tmp.path() / "x.safetensors", t, {{"k", "v"}});
  auto f = load_safetensors(tmp.path() / "x.safetensors");
  ASSERT_EQ(f.tensors.size(), t.size());
  for (const auto& [k, v] : t) {
    ASSERT_TRUE(f.tensors.count(k)) << k;
    EXPECT_EQ(f.tensors[k].scalar_type(), v.scalar_type()) << k;
    EXPECT_TRUE(torch::equal(f.tensors[k], v)) << k;
  }
  EXPECT_EQ(f.metadata.at("k"), "v");
}

TEST(Safetensors, CorruptAndTruncatedFilesAreFormatErrors) {
  test::TempDir tmp;
  const auto p = tmp.path() / "x.safetensors";
  save_safetensors(p, {{"w", torch::randn({64})}});
  std::string bytes = read_file_bytes(p);
  write_bytes_atomically(tmp.path() / "cut.safetensors", bytes.substr(0, bytes.size() - 10));
  EXPECT_THROW(load_safetensors(tmp.path() / "cut.safetensors"), FormatError);
  std::string bad = bytes;
  bad[8] = '#';  // the header's opening brace: no longer JSON
  write_bytes_atomically(tmp.path() / "bad.safetensors", bad);
  EXPECT_THROW(load_safetensors(tmp.path() / "bad.safetensors"), FormatError);
  write_bytes_atomically(tmp.path() / "tiny.safetensors", "abc");
  EXPECT_THROW(load_safetensors(tmp.path() / "tiny.safetensors"), FormatError);
  EXPECT_THROW(load_safetensors(tmp.path() / "none.safetensors"), IoError);
}

namespace {

// A safetensors file with a hand-written header and `data` bytes after it.
std::string handmade_safetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

// The FormatError message of loading `bytes` as `name` ("" when it loads).
std::string safetensors_load_error(const std::filesystem::path& dir, const std::string& name,
                       const std::string& bytes) {
  write_bytes_atomically(dir / name, bytes);
  try {
    load_safetensors(dir / name);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Safetensors, HeadersThatClaimMoreThanTheFileAreRefusedBeforeAllocating) {
  test::TempDir tmp;
  // Element count 2^62 * 4 overflows (it wrapped to 0 bytes and reached LibTorch).
  std::string msg = safetensors_load_error(
      tmp.path(), "overflow.safetensors",
      handmade_safetensors(
          R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})",
          ""));
  EXPECT_NE(msg.find("overflow.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  // numel fits but times the item size it does not: 2^62 float64.
  msg = safetensors_load_error(
      tmp.path(), "bytes.safetensors",
      handmade_safetensors(
          R"({"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 0]}})",
          ""));
  EXPECT_NE(msg.find("bytes.safetensors"), std::string::npos) << msg;
  // A shape far larger than the data section.
  msg = safetensors_load_error(
      tmp.path(), "big.safetensors",
      handmade_safetensors(
          R"({"w": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 8]}})",
          std::string(8, '\0')));
  EXPECT_NE(msg.find("big.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("8 data bytes"), std::string::npos) << msg;
  // Offsets past the end of the file, and a header length past the end of the file.
  msg = safetensors_load_error(
      tmp.path(), "offsets.safetensors",
      handmade_safetensors(R"({"w": {"dtype": "U8", "shape": [4], "data_offsets": [100, 104]}})",
                           std::string(4, '\0')));
  EXPECT_NE(msg.find("byte range [100, 104)"), std::string::npos) << msg;
  std::string long_header = handmade_safetensors("{}", "");
  long_header[5] = 1;  // claims a 2^40-byte header
  msg = safetensors_load_error(tmp.path(), "header.safetensors", long_header);
  EXPECT_NE(msg.find("header.safetensors"), std::string::npos) << msg;
  // Many tensors over the same bytes are refused before any is allocated (each alone fits).
  std::string header = "{";
  for (int i = 0; i < 1000; ++i) {
    header += (i ? "," : "") + std::string("\"t") + std::to_string(i) +
              R"(": {"dtype": "U8", "shape": [16], "data_offsets": [0, 16]})";
  }
  msg = safetensors_load_error(tmp.path(), "overlap.safetensors",
                   handmade_safetensors(header + "}", std::string(16, '\0')));
  EXPECT_NE(msg.find("overlap"), std::string::npos) << msg;
  // Entries of the wrong JSON type are format errors too.
  msg = safetensors_load_error(tmp.path(), "type.safetensors",
                   handmade_safetensors(
                       R"({"w": {"dtype": "F32", "shape": "big", "data_offsets": [0, 0]}})", ""));
  EXPECT_NE(msg.find("type.safetensors"), std::string::npos) << msg;
}

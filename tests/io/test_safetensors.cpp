#include <torch/torch.h>

#include <fstream>

#include "momu/core/error.h"
#include "momu/io/atomic_file.h"
#include "momu/io/safetensors.h"
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

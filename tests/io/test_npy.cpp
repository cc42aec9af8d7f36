#include <torch/torch.h>

#include <fstream>

#include "core/atomic_file.h"
#include "golden_util.h"
#include "io/npy.h"
#include "momu/core/error.h"
#include "momu/io/motion_file.h"

using namespace momu;

namespace {

// An .npy with a hand-written header (version major.0), padded to 64 bytes.
std::string handmade(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  const size_t prefix = major == 1 ? 10 : 12;
  header += std::string((64 - (prefix + header.size() + 1) % 64) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const size_t n = header.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) {
    out += '\0';
    out += '\0';
  }
  return out + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

void expect_format_error(const std::string& bytes, const std::string& needle) {
  try {
    parse_npy(bytes, "x.npy");
    FAIL() << "no exception, expected one mentioning '" << needle << "'";
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("x.npy"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

}  // namespace

TEST(Npy, RoundTripsEveryDtypeExactly) {
  std::vector<at::Tensor> cases = {
      torch::randn({750, 23, 3}, torch::kFloat32), torch::randn({4, 5}, torch::kFloat64),
      torch::arange(-5, 7, torch::kLong),          torch::randint(-100, 100, {3, 2}, torch::kInt),
      torch::randint(0, 255, {9}, torch::kByte),   torch::rand({6}) > 0.5,
      torch::tensor(3.5, torch::kFloat64),         torch::zeros({0, 3}, torch::kFloat32)};
  for (const auto& t : cases) {
    const std::string bytes = npy_bytes(t);
    EXPECT_EQ(bytes.find('\n') + 1, bytes.size() - t.numel() * t.element_size());
    EXPECT_EQ((bytes.find('\n') + 1) % 64, 0u);
    NpyArray a = parse_npy(bytes, "mem");
    EXPECT_EQ(a.data.scalar_type(), t.scalar_type());
    EXPECT_EQ(a.data.sizes(), t.sizes());
    EXPECT_TRUE(torch::equal(a.data, t));
  }
  test::TempDir tmp;
  auto t = torch::randn({10, 17, 2});
  write_npy(tmp.path() / "a.npy", t);
  EXPECT_TRUE(torch::equal(read_npy(tmp.path() / "a.npy").data, t));
}

TEST(Npy, ReadsTheGoldenMotion) {
  MOMU_REQUIRE_GOLDEN();
  NpyArray a = read_npy(test::golden_dir() / "DANCE_C_2_motion.npy");
  EXPECT_EQ(a.descr, "<f4");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{750, 23, 3}));
  EXPECT_TRUE(torch::isfinite(a.data).all().item<bool>());
  // numpy's own header, byte for byte, is what we write.
  const std::string original = read_file_bytes(test::golden_dir() / "DANCE_C_2_motion.npy");
  EXPECT_EQ(npy_bytes(a.data), original);
}

TEST(Npy, ReadsOtherVersionsByteOrdersAndOldShapes) {
  const std::vector<double> v = {1.5, -2.25, 3.0, 4.0, 5.0, 6.0};
  auto a = parse_npy(
      handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", raw(v), 2), "v2");
  EXPECT_EQ(a.data.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data[0][1].item<double>(), -2.25);
  a = parse_npy(
      handmade("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (6,)}", raw(v), 3), "v3");
  EXPECT_EQ(a.data[5].item<double>(), 6.0);
  // Big-endian float32 and a Python 2 long in the shape.
  std::string be;
  for (float f : {1.0f, -2.0f}) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int i = 3; i >= 0; --i) be += static_cast<char>((u >> (8 * i)) & 0xff);
  }
  a = parse_npy(handmade("{'descr': '>f4', 'fortran_order': False, 'shape': (2L,), }", be), "be");
  EXPECT_EQ(a.data.scalar_type(), torch::kFloat32);
  EXPECT_EQ(a.data[1].item<float>(), -2.0f);
  // uint16 widens to int32.
  a = parse_npy(handmade("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }",
                         raw(std::vector<uint16_t>{65535, 7})),
                "u2");
  EXPECT_EQ(a.data.scalar_type(), torch::kInt);
  EXPECT_EQ(a.data[0].item<int>(), 65535);
}

TEST(Npy, ErrorsSayWhatIsWrong) {
  const std::string good = npy_bytes(torch::ones({4, 3}));
  expect_format_error(good.substr(0, good.size() - 5), "truncated");
  expect_format_error(good.substr(0, 30), "truncated");
  expect_format_error(good + "xx", "after the .npy data");
  expect_format_error("PK\x03\x04 this is a zip", "magic");
  expect_format_error(std::string(), "magic");
  expect_format_error(handmade("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", "abcd"),
                      "unsupported .npy dtype '<f2'");
  expect_format_error(
      handmade("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", std::string(20, 'a')),
      "unsupported");
  expect_format_error(handmade("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "abcd"),
                      "Fortran");
  expect_format_error(handmade("{'descr': '<f4', 'shape': (1,), }", "abcd"), "header");
  expect_format_error(handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }", "abcd"),
                      "header");
  std::string v9 = good;
  v9[6] = 9;
  expect_format_error(v9, "version 9");
  EXPECT_THROW(npy_bytes(torch::zeros({2}, torch::kComplexFloat)), ShapeError);
  EXPECT_THROW(read_npy("/nonexistent/x.npy"), IoError);
}

TEST(Npy, ShapesThatOverflowOrExceedTheFileAreRefusedBeforeAllocating) {
  // [2^32, 2^32, 3]: the element count overflows int64 (it wrapped to 0 and reached LibTorch).
  expect_format_error(
      handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 3), }",
               ""),
      "overflows");
  // A zero dimension does not excuse an overflowing product.
  expect_format_error(
      handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 281474976710656, "
               "281474976710656), }",
               ""),
      "overflows");
  // Far more data than the file holds, and an element count times the item size past 2^64.
  expect_format_error(
      handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 100000000), }",
               raw(std::vector<float>{1, 2})),
      "truncated");
  expect_format_error(
      handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (140737488355328, 16384), }", ""),
      "overflows");
  std::string many = "(";
  for (int i = 0; i < 40; ++i) many += "1,";
  expect_format_error(
      handmade("{'descr': '<f4', 'fortran_order': False, 'shape': " + many + "), }", "abcd"),
      "dimensions");
}

TEST(Npy, MotionFromArrays) {
  MotionLoadOptions o;
  Motion m = motion_from_array(torch::randn({10, 23, 3}), o, "a.npy");
  EXPECT_EQ(m.skeleton.name, "dwm23");
  EXPECT_EQ(m.fps, 25.0);
  o.fps = 60;
  m = motion_from_array(torch::randn({10, 17, 2}, torch::kFloat64), o, "a.npy");
  EXPECT_EQ(m.skeleton.name, "coco17");
  EXPECT_EQ(m.joints.scalar_type(), torch::kFloat32);
  EXPECT_EQ(m.fps, 60.0);
  // LORIS pose2d: [T, 17, 3] with confidence last.
  o.confidence_channel = true;
  auto pose = torch::rand({8, 17, 3});
  m = motion_from_array(pose, o, "pose2d.npy");
  EXPECT_EQ(m.skeleton.name, "coco17");
  EXPECT_TRUE(torch::equal(m.confidence, pose.select(2, 2)));
  EXPECT_TRUE(torch::equal(m.joints, pose.slice(2, 0, 2)));
  // [T, J*D] with a named skeleton.
  MotionLoadOptions flat;
  flat.skeleton = "smpl24";
  m = motion_from_array(torch::randn({5, 72}), flat, "flat.npy");
  EXPECT_EQ(m.joints.sizes(), (std::vector<int64_t>{5, 24, 3}));
  EXPECT_THROW(motion_from_array(torch::randn({5, 72}), {}, "flat.npy"), FormatError);
  EXPECT_THROW(motion_from_array(torch::randn({5, 23, 4}), {}, "d4.npy"), FormatError);
  EXPECT_THROW(motion_from_array(torch::randn({5, 23, 3}), flat, "mismatch.npy"), FormatError);
  auto nan = torch::randn({5, 23, 3});
  nan[3][4][1] = std::numeric_limits<float>::quiet_NaN();
  try {
    motion_from_array(nan, {}, "nan.npy");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("nan.npy: NaN or infinite joint position at frame 3, "
                                         "joint 4"),
              std::string::npos)
        << e.what();
  }
}

// Replays every input the fuzz targets found (tests/data/fuzz_regressions/<target>/<file>)
// through the same code the target runs (fuzz/fuzz_targets.h), in the normal build: each must
// end in success or a momu error, never another exception. See docs/reliability.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "../../fuzz/fuzz_targets.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

using RunFn = void (*)(const uint8_t*, size_t);

const std::map<std::string, RunFn>& targets() {
  static const std::map<std::string, RunFn> t{
      {"npy", momu::fuzz::run_npy},
      {"bvh", momu::fuzz::run_bvh},
      {"motion_json", momu::fuzz::run_motion_json},
      {"dance_with_melody", momu::fuzz::run_dance_with_melody},
      {"safetensors", momu::fuzz::run_safetensors},
      {"latent", momu::fuzz::run_latent},
      {"audio", momu::fuzz::run_audio},
      {"config", momu::fuzz::run_config},
      {"model_config", momu::fuzz::run_model_config},
  };
  return t;
}

fs::path regressions_dir() { return momu::test::source_dir() / "tests" / "data" / "fuzz_regressions"; }

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(FuzzRegressions, EveryFolderIsATarget) {
  if (!fs::is_directory(regressions_dir())) GTEST_SKIP() << "no regression inputs yet";
  for (const auto& entry : fs::directory_iterator(regressions_dir())) {
    if (!entry.is_directory()) continue;
    EXPECT_EQ(targets().count(entry.path().filename().string()), 1u)
        << entry.path() << " is not a fuzz target's name (fuzz/fuzz_targets.h)";
  }
}

TEST(FuzzRegressions, EveryInputEndsInSuccessOrAMomuError) {
  int replayed = 0;
  for (const auto& [name, run] : targets()) {
    const fs::path dir = regressions_dir() / name;
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string bytes = read_all(file);
      try {
        run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      } catch (const std::exception& e) {
        ADD_FAILURE() << file << ": " << e.what();
      } catch (...) {
        ADD_FAILURE() << file << ": an exception that is not a std::exception";
      }
      ++replayed;
    }
  }
  std::error_code ec;
  fs::remove_all(momu::fuzz::scratch_dir(), ec);
  RecordProperty("replayed", replayed);
}

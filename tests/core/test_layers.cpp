// The library's rooms stand on one-way floors (README, "Layout"): an area includes only areas
// below it, include/momu/ holds the public API and includes nothing private, the Python module
// (a user of the library) sees only the public API, and train/ is used by tools, tests and
// benchmarks only. Read from the source tree, so a new uphill include fails here.
//
//   core <- {audio, motion} <- io <- {data, model, render, eval} <- diffusion
//        <- {generate, train} <- eval/report <- tools, tests, bench
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace fs = std::filesystem;

namespace {

const std::map<std::string, int>& floors() {
  static const std::map<std::string, int> f{
      {"core", 0},  {"audio", 1}, {"motion", 1},    {"io", 2},       {"data", 3},
      {"model", 3}, {"render", 3}, {"eval", 3},     {"diffusion", 4}, {"generate", 5},
      {"train", 5}, {"eval/report", 6}, {"momu.h", 7}};  // momu.h: the umbrella header
  return f;
}

// The area of a path relative to src/ or include/momu/ ("eval/report/x.h" -> "eval/report").
std::string area_of(const std::string& rel) {
  if (rel.rfind("eval/report/", 0) == 0) return "eval/report";
  return rel.substr(0, rel.find('/'));
}

struct Include {
  int line = 0;
  std::string target;  // as written between the quotes
};

std::vector<Include> quoted_includes(const fs::path& file) {
  static const std::regex re(R"re(^\s*#\s*include\s+"([^"]+)")re");
  std::ifstream in(file);
  std::vector<Include> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::smatch m;
    if (std::regex_search(line, m, re)) out.push_back({n, m[1]});
  }
  return out;
}

std::vector<fs::path> sources_under(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".h" || ext == ".cpp")) out.push_back(e.path());
  }
  return out;
}

struct Target {
  bool project = false;  // a library header (public or private), not a same-folder one
  bool is_public = false;
  std::string area;
  fs::path file;  // where it is
};

Target classify(const std::string& inc, const fs::path& root) {
  Target t;
  if (inc.rfind("momu/", 0) == 0) {
    t.project = true;
    t.is_public = true;
    t.area = area_of(inc.substr(5));
    t.file = root / "include" / inc;
    return t;
  }
  const std::string area = area_of(inc);
  if (inc.find('/') != std::string::npos && floors().count(area) != 0) {
    t.project = true;
    t.area = area;
    t.file = root / "src" / inc;
  }
  return t;
}

std::string allowed_below(const std::string& area) {
  std::string s;
  for (const auto& [name, floor] : floors()) {
    if (floor < floors().at(area)) s += (s.empty() ? "" : ", ") + name;
  }
  return s.empty() ? "nothing" : s;
}

std::string where(const fs::path& file, const fs::path& root, int line) {
  return fs::relative(file, root).string() + ":" + std::to_string(line);
}

}  // namespace

TEST(Layers, EveryAreaIncludesOnlyAreasBelowIt) {
  const fs::path root = momu::test::source_dir();
  std::vector<std::string> bad;
  int checked = 0;
  for (const auto& [dir, is_public_dir] :
       std::vector<std::pair<fs::path, bool>>{{root / "src", false}, {root / "include" / "momu", true}}) {
    for (const auto& file : sources_under(dir)) {
      const std::string area = area_of(fs::relative(file, dir).generic_string());
      if (floors().count(area) == 0) {
        bad.push_back(fs::relative(file, root).string() + ": in no known area (add it to the floors)");
        continue;
      }
      for (const auto& inc : quoted_includes(file)) {
        const Target t = classify(inc.target, root);
        if (!t.project) continue;
        ++checked;
        const std::string at = where(file, root, inc.line) + " includes \"" + inc.target + "\"";
        if (!fs::exists(t.file)) bad.push_back(at + ": no such header at " + t.file.string());
        if (is_public_dir && !t.is_public) bad.push_back(at + ": a public header includes a private one");
        if (t.area != area && floors().at(t.area) >= floors().at(area)) {
          bad.push_back(at + ": " + area + "/ may include only " + allowed_below(area));
        }
      }
    }
  }
  EXPECT_GT(checked, 300) << "too few includes seen: is " << root << " the source tree?";
  std::ostringstream all;
  for (const auto& b : bad) all << "\n  " << b;
  EXPECT_TRUE(bad.empty()) << bad.size() << " uphill or misplaced includes:" << all.str();
}

TEST(Layers, TrainingIsUsedOnlyByToolsTestsAndBenchmarks) {
  const fs::path root = momu::test::source_dir();
  std::vector<std::string> bad;
  for (const auto& dir : {"src", "include", "python"}) {
    for (const auto& file : sources_under(root / dir)) {
      const std::string rel = fs::relative(file, root).generic_string();
      if (rel.rfind("src/train/", 0) == 0) continue;
      for (const auto& inc : quoted_includes(file)) {
        if (classify(inc.target, root).area == "train") {
          bad.push_back(where(file, root, inc.line) + " includes \"" + inc.target + "\"");
        }
      }
    }
  }
  std::ostringstream all;
  for (const auto& b : bad) all << "\n  " << b;
  EXPECT_TRUE(bad.empty()) << "train/ is for tools/, tests/ and bench/ only:" << all.str();
}

TEST(Layers, ThePythonModuleUsesOnlyThePublicApi) {
  const fs::path root = momu::test::source_dir();
  std::vector<std::string> bad;
  for (const auto& file : sources_under(root / "python")) {
    for (const auto& inc : quoted_includes(file)) {
      const Target t = classify(inc.target, root);
      if (t.project && !t.is_public) {
        bad.push_back(where(file, root, inc.line) + " includes \"" + inc.target + "\"");
      }
    }
  }
  std::ostringstream all;
  for (const auto& b : bad) all << "\n  " << b;
  EXPECT_TRUE(bad.empty()) << "python/ is a user of the library: public headers only" << all.str();
}

TEST(Layers, TheUmbrellaHeaderIncludesEveryPublicHeader) {
  const fs::path root = momu::test::source_dir();
  const fs::path umbrella = root / "include" / "momu" / "momu.h";
  ASSERT_TRUE(fs::exists(umbrella));
  std::set<std::string> included;
  for (const auto& inc : quoted_includes(umbrella)) included.insert(inc.target);
  std::vector<std::string> missing;
  for (const auto& file : sources_under(root / "include" / "momu")) {
    const std::string rel = "momu/" + fs::relative(file, root / "include" / "momu").generic_string();
    if (rel != "momu/momu.h" && included.count(rel) == 0) missing.push_back(rel);
  }
  EXPECT_TRUE(missing.empty()) << "momu/momu.h lacks " << ::testing::PrintToString(missing);
}

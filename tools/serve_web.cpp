#include "serve_web.h"

#include <cstdlib>

#include "momu/core/error.h"
#include "momu_paths.h"

namespace momu::cli {

namespace fs = std::filesystem;

const std::vector<WebFile>& web_files() {
  static const std::vector<WebFile> files = {
      {"/", "index.html", "text/html; charset=utf-8"},
      {"/index.html", "index.html", "text/html; charset=utf-8"},
      {"/app.js", "app.js", "text/javascript; charset=utf-8"},
      {"/viewer.js", "viewer.js", "text/javascript; charset=utf-8"},
      {"/style.css", "style.css", "text/css; charset=utf-8"},
      {"/vendor/three/three.module.js", "node_modules/three/build/three.module.js",
       "text/javascript; charset=utf-8"},
  };
  return files;
}

namespace {

// The first file of web_files() missing under `root`, or "".
std::string first_missing(const fs::path& root) {
  std::error_code ec;
  for (const auto& f : web_files()) {
    if (!fs::is_regular_file(root / f.relative, ec)) return f.relative;
  }
  return "";
}

}  // namespace

fs::path resolve_web_root(const std::string& flag) {
  std::vector<fs::path> candidates;
  if (!flag.empty()) {
    candidates.push_back(flag);
  } else if (const char* env = std::getenv("MOMU_WEB"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  } else {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.has_parent_path()) {
      candidates.push_back(exe.parent_path().parent_path() / "web");
      candidates.push_back(exe.parent_path().parent_path() / "share" / "momu" / "web");
    }
    candidates.push_back(fs::path(MOMU_SOURCE_DIR) / "web");
  }
  std::string looked;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!fs::is_regular_file(c / "index.html", ec)) {
      looked += (looked.empty() ? "" : ", ") + c.lexically_normal().string();
      continue;
    }
    const std::string missing = first_missing(c);
    if (missing.empty()) return c.lexically_normal();
    const bool three = missing.rfind("node_modules/", 0) == 0;
    throw ConfigError("serve: the web page in " + c.lexically_normal().string() + " lacks " +
                      missing +
                      (three ? "; install three.js with `npm ci --prefix web` (scripts/setup.sh "
                               "does it when npm is installed)"
                             : ""));
  }
  throw ConfigError("serve: no web page found (looked for index.html in " + looked +
                    "); pass --web-root <folder> or set MOMU_WEB");
}

}  // namespace momu::cli

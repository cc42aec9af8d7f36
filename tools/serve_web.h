// The page `momu serve` serves: web/ of the source tree (index.html, app.js, viewer.js,
// style.css) and three.js's module build from web/node_modules (installed by scripts/setup.sh
// with `npm ci --prefix web`; nothing is fetched from a CDN at run time).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace momu::cli {

// One file the server hands out: its URL path, where it lies under the web root, its type.
struct WebFile {
  std::string url;       // "/", "/app.js", "/vendor/three/three.module.js", ...
  std::string relative;  // "index.html", "node_modules/three/build/three.module.js", ...
  std::string content_type;
};

// Every file of the page (a fixed list: nothing else under the web root is served).
const std::vector<WebFile>& web_files();

// The folder with the page: `flag` (--web-root) when given, else $MOMU_WEB, else web/ beside the
// build folder of this executable (<repo>/build/momu -> <repo>/web), share/momu/web of an
// installed one, or the source tree's web/. Throws ConfigError saying where it looked, or which
// file of web_files() is missing (three.js: "run npm ci --prefix web").
std::filesystem::path resolve_web_root(const std::string& flag);

}  // namespace momu::cli

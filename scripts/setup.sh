#!/usr/bin/env bash
# Installs every system dependency of momu from Debian (idempotent; Debian 12, as root or with
# sudo), then configures and builds Release into build/.
#   scripts/setup.sh            install + build
#   scripts/setup.sh --no-build install only
set -euo pipefail

cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config
  ninja-build             # build tool: adding a source file rebuilds only that file (Make rebuilt all)
  libtorch-dev            # LibTorch 1.13 (CPU) C++ frontend
  libgloo-dev             # gloo's headers: data-parallel training on LibTorch's c10d (Gloo backend)
  libopenblas0-pthread    # fast BLAS for LibTorch (the reference BLAS is ~30x slower)
  libsndfile1-dev         # WAV, FLAC, OGG, MP3 decoding
  libsoxr-dev             # high-quality resampling
  nlohmann-json3-dev      # JSON
  libcli11-dev            # command line
  libgtest-dev            # tests
  libbenchmark-dev        # benchmarks
  assimp-testmodels       # real CMU BVH captures for the BVH tests
  libcairo2-dev           # momu render: drawing the stick-figure frames
  ffmpeg                  # momu render: H.264/AAC encoding and muxing (run as a program)
  python3-torch           # bench/compare_torch.sh: the PyTorch-Python reference of the denoiser (torch 1.13)
  titanion-data           # free music (BSD licence, 3 tracks of 64-90 s) for the music2motion example
  libcpp-httplib-dev      # momu serve: the HTTP server (cpp-httplib)
  chromium chromium-driver  # the browser test of momu serve's page (headless, tests/web)
  pybind11-dev python3-dev python3-numpy  # the Python module `momu` (build/python; README, "Python")
  python3-pytest          # its tests (tests/python, run by ctest)
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm for momu serve's page (below): Debian's only when there is none (a nodesource nodejs brings
# its own and conflicts with Debian's npm).
command -v npm > /dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# Make sure the alternatives system points libblas.so.3 at OpenBLAS (it does after install, but
# an earlier manual choice could pin the reference BLAS).
arch_triplet=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
openblas="/usr/lib/${arch_triplet}/openblas-pthread/libblas.so.3"
if [ -e "$openblas" ] && command -v update-alternatives > /dev/null; then
  $SUDO update-alternatives --set "libblas.so.3-${arch_triplet}" "$openblas" > /dev/null 2>&1 || true
fi

# momu serve's page: three.js (and playwright-core, for its browser test) from the npm registry
# into web/node_modules (git-ignored), exactly as web/package-lock.json pins them; nothing is
# fetched from a CDN when the page runs.
if command -v npm > /dev/null 2>&1; then
  npm ci --prefix web --no-audit --no-fund || echo "setup: npm ci --prefix web failed: momu serve lacks three.js; its browser test is skipped"
else
  echo "setup: npm not found: momu serve lacks three.js (npm ci --prefix web); its browser test is skipped"
fi

if [ "${1:-}" != "--no-build" ]; then
  # Ninja tracks each object's command line, so a new source file compiles alone; the Makefile
  # generator rewrote every target's flags and rebuilt everything. A build/ made by another
  # generator is kept as it is.
  generator=(-G Ninja)
  if [ -f build/CMakeCache.txt ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' build/CMakeCache.txt; then
    generator=()
  fi
  cmake "${generator[@]}" -S . -B build -DCMAKE_BUILD_TYPE=Release
  # The program first (library + CLI, unity batches: docs/DEVNOTES.md "Build time"), so that
  # `build/momu generate` can run while the tests, benchmarks and the Python module build.
  build_start=$SECONDS
  cmake --build build -j "$(nproc)" --target momu
  echo "setup: built build/momu ($(build/momu --version)) in $((SECONDS - build_start)) s; try: build/momu generate"
  cmake --build build -j "$(nproc)"
  echo "setup: built everything (tests, benchmarks, Python module) in $((SECONDS - build_start)) s"
fi

#!/usr/bin/env bash
# Builds momu on a machine that lacks our Debian -dev packages and the network (e.g. a CUDA image
# with nvcc, CMake, ninja, g++ and a pip PyTorch), from the Debian 12 .deb files carried in
# .devdeps/ (see docs/DEVNOTES.md, "Building on a CUDA machine").
#
#   scripts/device_build.sh [extra cmake configure arguments...]
#
# What it does:
#   1. extracts every .devdeps/*.deb with dpkg-deb -x (or ar + tar) into a prefix (nothing
#      is installed into /), points the .pc files and absolute symlinks at that prefix, and
#      prefers the machine's own copy of any shared library it already has (same soname);
#   2. finds LibTorch (python3's torch.utils.cmake_prefix_path, or MOMU_TORCH_PREFIX) and, for a
#      CUDA LibTorch, nvcc and the CUDA toolkit;
#   3. configures with CMake (Ninja, Release) and builds with all cores;
#   4. writes <build dir>/env.sh to `source` before running momu or ctest.
#
# Environment (all optional):
#   MOMU_DEVDEPS_DIR   folder with the .deb files          (default: <repo>/.devdeps)
#   MOMU_DEPS_PREFIX   where they are extracted            (default: /opt/momu-deps)
#   MOMU_BUILD_DIR     build folder                        (default: build-cuda)
#   MOMU_BUILD_TYPE    CMake build type                    (default: Release)
#   MOMU_TARGETS       targets to build, space-separated   (default: all)
#   MOMU_JOBS          parallel jobs                       (default: nproc)
#   MOMU_TORCH_PREFIX  LibTorch CMake prefix, or the folder holding TorchConfig.cmake
#                      (default: python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
#   MOMU_CUDA_ARCH     CMAKE_CUDA_ARCHITECTURES for a CUDA LibTorch (default: 90, H100/H200);
#                      TORCH_CUDA_ARCH_LIST defaults to the same (9.0)
#   CUDAToolkit_ROOT / CUDA_HOME / CUDA_PATH   CUDA toolkit (default: /usr/local/cuda, then nvcc in PATH)
#   MOMU_PREFER_SYSTEM_LIBS  1 (default): a library the machine already has (ldconfig -p) is
#                      used instead of the extracted copy; 0: always use the extracted copies
#   MOMU_BUNDLED_PKGCONF     1: use the extracted pkgconf even when the machine has pkg-config
#   MOMU_CMAKE_ARGS    extra configure arguments (word-split), same as arguments to this script
#   MOMU_CONFIGURE_ONLY      1: stop after the CMake configure step
set -euo pipefail
# (no `cmd | head` in command substitutions: an early-exiting reader is a SIGPIPE failure here)

log() { printf '[device_build] %s\n' "$*" >&2; }
warn() { printf '[device_build] WARNING: %s\n' "$*" >&2; }
die() { printf '[device_build] ERROR: %s\n' "$*" >&2; exit 1; }

cd "$(dirname "$0")/.."
REPO=$(pwd)

DEBS_DIR=${MOMU_DEVDEPS_DIR:-$REPO/.devdeps}
PREFIX=${MOMU_DEPS_PREFIX:-/opt/momu-deps}
BUILD_DIR=${MOMU_BUILD_DIR:-build-cuda}
BUILD_TYPE=${MOMU_BUILD_TYPE:-Release}
JOBS=${MOMU_JOBS:-$(nproc 2>/dev/null || echo 4)}
PREFER_SYSTEM=${MOMU_PREFER_SYSTEM_LIBS:-1}
ARCH_TRIPLET=x86_64-linux-gnu

case "$PREFIX" in
  /*) ;;
  *) PREFIX="$REPO/$PREFIX" ;;
esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] && [ "$PREFIX" != "/" ] && [ "$PREFIX" != "/usr" ] || die "refusing prefix '$PREFIX'"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$REPO/$BUILD_DIR" ;; esac

[ "$(uname -m)" = "x86_64" ] || die "the .deb files are for x86-64; this machine is $(uname -m)"
for tool in cmake tar; do command -v "$tool" > /dev/null || die "'$tool' not found"; done

# ---------------------------------------------------------------------------------------------
# 1. Extract the .deb files.
shopt -s nullglob
debs=("$DEBS_DIR"/*.deb)
shopt -u nullglob
[ ${#debs[@]} -gt 0 ] || die "no .deb files in $DEBS_DIR (carry the ignored folder .devdeps/ with the repository)"

MARKER="$PREFIX/.momu-deps"
if [ -e "$PREFIX" ]; then
  if [ -e "$MARKER" ]; then
    rm -rf "$PREFIX"       # ours: re-extract from scratch so that every fix-up below starts clean
  elif [ -n "$(ls -A "$PREFIX")" ]; then
    die "$PREFIX exists, is not empty and was not made by this script; set MOMU_DEPS_PREFIX"
  fi
fi
mkdir -p "$PREFIX"
echo "extracted by scripts/device_build.sh from $DEBS_DIR" > "$MARKER"

extract_deb() {  # dpkg-deb where there is one, otherwise ar + tar (a .deb is an ar archive)
  local deb=$1 member
  if command -v dpkg-deb > /dev/null; then
    dpkg-deb -x "$deb" "$PREFIX"
    return
  fi
  command -v ar > /dev/null || die "neither dpkg-deb nor ar (binutils) found to unpack $deb"
  member=$(ar t "$deb" | awk '/^data\.tar/ && !f {print; f = 1}')
  case "$member" in
    *.xz) ar p "$deb" "$member" | tar -xJ -C "$PREFIX" ;;
    *.zst) ar p "$deb" "$member" | tar --zstd -x -C "$PREFIX" ;;
    *.gz) ar p "$deb" "$member" | tar -xz -C "$PREFIX" ;;
    *) ar p "$deb" "$member" | tar -x -C "$PREFIX" ;;
  esac
}
log "extracting ${#debs[@]} .deb files from $DEBS_DIR into $PREFIX"
for deb in "${debs[@]}"; do extract_deb "$deb"; done

LIBDIRS=("$PREFIX/usr/lib/$ARCH_TRIPLET" "$PREFIX/lib/$ARCH_TRIPLET")
PCDIRS=("$PREFIX/usr/lib/$ARCH_TRIPLET/pkgconfig" "$PREFIX/usr/share/pkgconfig")

# Absolute symlinks (libz.so -> /lib/x86_64-linux-gnu/libz.so.1.2.13, fontconfig's conf.d) point
# into /: make them point into the prefix.
n_links=0
while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  if [ -e "$PREFIX$target" ] || [ -L "$PREFIX$target" ]; then
    ln -sfn "$PREFIX$target" "$link"
    n_links=$((n_links + 1))
  fi
done < <(find "$PREFIX" -type l -lname '/*' -print0)

# Debian .pc files say prefix=/usr (some hard-code libdir=/usr/lib/..., -I/usr/include).
n_pc=0
for dir in "${PCDIRS[@]}"; do
  for pc in "$dir"/*.pc; do
    [ -f "$pc" ] || continue
    sed -i -E "s#(^|[=[:space:]\"']|-I|-L)/usr(/|[[:space:]]|\$)#\\1$PREFIX/usr\\2#g" "$pc"
    n_pc=$((n_pc + 1))
  done
done
log "pointed $n_pc .pc files and $n_links absolute symlinks at $PREFIX"

# OpenMP: the compiler's own libgomp serves momu and libsoxr; a second (Debian gcc 12) copy next to
# it would only shadow it.
cxx=${CXX:-g++}
if command -v "$cxx" > /dev/null && [ -e "$("$cxx" -print-file-name=libgomp.so.1)" ]; then
  rm -f "$PREFIX/usr/lib/$ARCH_TRIPLET"/libgomp.so*
fi

# Shared libraries the machine already has (same soname, e.g. zlib, expat, libgomp): use the
# machine's copy, so that one process never mixes two builds of a library and the extracted copy's
# glibc requirement (Debian 12: up to GLIBC_2.36) does not matter. Libraries the machine lacks
# keep the extracted copy; warn when it needs a newer glibc than the machine's.
glibc_version=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}' || true)
have_objdump=0; command -v objdump > /dev/null && have_objdump=1
ldconfig_cache=""
if [ "$PREFER_SYSTEM" = "1" ]; then
  ldconfig_bin=$(command -v ldconfig || echo /sbin/ldconfig)
  [ -x "$ldconfig_bin" ] && ldconfig_cache=$("$ldconfig_bin" -p 2>/dev/null || true)
fi
n_system=0
too_new=()
for dir in "${LIBDIRS[@]}"; do
  [ -d "$dir" ] || continue
  for lib in "$dir"/lib*.so.*; do
    [ -f "$lib" ] && [ ! -L "$lib" ] || continue
    soname=""
    [ $have_objdump = 1 ] && soname=$(objdump -p "$lib" 2>/dev/null | awk '$1 == "SONAME" {print $2}')
    [ -n "$soname" ] || soname=$(basename "$lib" | sed -E 's/^(lib[^.]*\.so\.[0-9]+).*/\1/')
    if [ -n "$ldconfig_cache" ]; then
      sys=$(printf '%s\n' "$ldconfig_cache" | awk -v s="$soname" '$1 == s && /x86-64/ && !f {print $NF; f = 1}')
      case "$sys" in "$PREFIX"/*) sys="" ;; esac
      if [ -n "$sys" ] && [ -e "$sys" ]; then
        ln -sfn "$sys" "$lib"
        n_system=$((n_system + 1))
        continue
      fi
    fi
    if [ $have_objdump = 1 ] && [ -n "$glibc_version" ]; then
      need=$(objdump -T "$lib" 2>/dev/null | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -V | tail -n1 || true)
      if [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "$glibc_version" | sort -V | tail -n1)" != "$glibc_version" ]; then
        too_new+=("$(basename "$lib") (needs glibc $need)")
      fi
    fi
  done
done
[ "$PREFER_SYSTEM" = "1" ] && log "using the machine's own copy of $n_system shared libraries it already has"
if [ ${#too_new[@]} -gt 0 ]; then
  warn "this machine has glibc $glibc_version; these extracted libraries need a newer one and will"
  warn "not load (harmless unless momu links them): ${too_new[*]}"
fi

# pkg-config: the machine's, or the extracted pkgconf through a wrapper that finds libpkgconf.
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_TOP_BUILD_DIR || true
pc_path=$(IFS=:; echo "${PCDIRS[*]}")
export PKG_CONFIG_PATH="$pc_path${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
PKG_CONFIG_BIN=""
if [ "${MOMU_BUNDLED_PKGCONF:-0}" != "1" ] && command -v pkg-config > /dev/null; then
  PKG_CONFIG_BIN=$(command -v pkg-config)
  log "pkg-config: the machine's ($PKG_CONFIG_BIN)"
else
  [ -x "$PREFIX/usr/bin/pkgconf" ] || die "no pkg-config on this machine and no pkgconf in $DEBS_DIR"
  mkdir -p "$PREFIX/bin"
  cat > "$PREFIX/bin/pkg-config" <<EOF
#!/bin/sh
# pkgconf extracted from Debian 12 by scripts/device_build.sh
LD_LIBRARY_PATH="$PREFIX/usr/lib/$ARCH_TRIPLET\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$PREFIX/usr/bin/pkgconf" "\$@"
EOF
  chmod +x "$PREFIX/bin/pkg-config"
  PKG_CONFIG_BIN="$PREFIX/bin/pkg-config"
  log "pkg-config: the extracted pkgconf ($PKG_CONFIG_BIN)"
fi
"$PKG_CONFIG_BIN" --version > /dev/null 2>&1 || die "$PKG_CONFIG_BIN does not run"
for mod in sndfile soxr; do
  "$PKG_CONFIG_BIN" --exists --print-errors "$mod" || die "pkg-config cannot resolve '$mod' (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
done
if "$PKG_CONFIG_BIN" --exists cairo 2> /dev/null; then
  log "pkg-config resolves sndfile $("$PKG_CONFIG_BIN" --modversion sndfile), soxr $("$PKG_CONFIG_BIN" --modversion soxr), cairo $("$PKG_CONFIG_BIN" --modversion cairo)"
else
  warn "pkg-config cannot resolve cairo (only needed by the cairo renderer)"
fi

# Fontconfig (cairo text): the extracted DejaVu fonts plus whatever the machine has.
if [ -d "$PREFIX/usr/share/fonts" ]; then
  mkdir -p "$PREFIX/var/cache/fontconfig"
  cat > "$PREFIX/etc/momu-fonts.conf" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>$PREFIX/usr/share/fonts</dir>
  <include ignore_missing="yes">$PREFIX/etc/fonts/fonts.conf</include>
  <cachedir>$PREFIX/var/cache/fontconfig</cachedir>
</fontconfig>
EOF
fi

# ---------------------------------------------------------------------------------------------
# 2. LibTorch and CUDA.
TORCH_ARG=()
TORCH_LIB_DIR=""
TORCH_CUDA=0
TORCH_ABI=""
if [ -n "${MOMU_TORCH_PREFIX:-}" ]; then
  torch_cmake=${MOMU_TORCH_PREFIX%/}
  log "LibTorch: MOMU_TORCH_PREFIX=$torch_cmake"
else
  command -v python3 > /dev/null || die "python3 not found; set MOMU_TORCH_PREFIX to LibTorch's CMake prefix"
  torch_cmake=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) ||
    die "python3 cannot import torch; set MOMU_TORCH_PREFIX to LibTorch's CMake prefix"
  log "LibTorch: python3 torch $(python3 -c 'import torch; print(torch.__version__)') at $torch_cmake"
  TORCH_ABI=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || true)
fi
[ -d "$torch_cmake" ] || die "LibTorch CMake prefix $torch_cmake does not exist"
if [ -f "$torch_cmake/TorchConfig.cmake" ]; then
  TORCH_ARG=("-DTorch_DIR=$torch_cmake")
  torch_config="$torch_cmake/TorchConfig.cmake"
else
  torch_config=$(find "$torch_cmake" -maxdepth 3 -name TorchConfig.cmake -print -quit)
  [ -n "$torch_config" ] || die "no TorchConfig.cmake under $torch_cmake"
fi
# pip wheels: <site-packages>/torch/share/cmake -> libraries in <site-packages>/torch/lib.
for cand in "$torch_cmake/../../lib" "$torch_cmake/../lib" "$(dirname "$torch_config")/../../../lib"; do
  if compgen -G "$cand/libtorch*.so" > /dev/null; then TORCH_LIB_DIR=$(cd "$cand" && pwd); break; fi
done
if [ -n "$TORCH_LIB_DIR" ] && [ -e "$TORCH_LIB_DIR/libtorch_cuda.so" ]; then TORCH_CUDA=1; fi
if [ -z "$TORCH_ABI" ] && [ -n "$TORCH_LIB_DIR" ]; then
  # A pip torch without python at hand: the ABI is in the config's TORCH_CXX_FLAGS.
  TORCH_ABI=$(grep -hoE '_GLIBCXX_USE_CXX11_ABI=[01]' "$(dirname "$torch_config")"/*.cmake 2>/dev/null | head -n1 | cut -d= -f2 || true)
fi
if [ "$TORCH_ABI" = "0" ]; then
  warn "this LibTorch uses the old C++ ABI (_GLIBCXX_USE_CXX11_ABI=0); Debian's libgtest.a and"
  warn "libbenchmark were built with ABI 1, so the tests and benchmarks will not link"
  warn "(add -DMOMU_BUILD_TESTS=OFF -DMOMU_BUILD_BENCH=OFF to build momu alone)"
fi

# pip CUDA wheels keep the CUDA runtime libraries in <site-packages>/nvidia/*/lib.
NVIDIA_LIB_DIRS=()
if [ -n "$TORCH_LIB_DIR" ] && [ -d "$TORCH_LIB_DIR/../../nvidia" ]; then
  while IFS= read -r d; do NVIDIA_LIB_DIRS+=("$d"); done < <(find "$(cd "$TORCH_LIB_DIR/../../nvidia" && pwd)" -maxdepth 3 -type d -name lib | sort)
fi

CUDA_ARGS=()
CUDA_BIN=""
if [ $TORCH_CUDA = 1 ]; then
  cuda_root=${CUDAToolkit_ROOT:-${CUDA_HOME:-${CUDA_PATH:-}}}
  if [ -z "$cuda_root" ]; then
    if [ -x /usr/local/cuda/bin/nvcc ]; then
      cuda_root=/usr/local/cuda
    elif command -v nvcc > /dev/null; then
      cuda_root=$(cd "$(dirname "$(command -v nvcc)")/.." && pwd)
    fi
  fi
  [ -n "$cuda_root" ] && [ -x "$cuda_root/bin/nvcc" ] ||
    die "CUDA LibTorch needs the CUDA toolkit (nvcc): set CUDAToolkit_ROOT (e.g. /usr/local/cuda)"
  CUDA_BIN="$cuda_root/bin"
  arch=${MOMU_CUDA_ARCH:-90}
  export CUDA_HOME="$cuda_root" CUDAToolkit_ROOT="$cuda_root" CUDACXX="$cuda_root/bin/nvcc"
  export PATH="$CUDA_BIN:$PATH"
  if [ -z "${TORCH_CUDA_ARCH_LIST:-}" ] && [[ "$arch" =~ ^[0-9]+$ ]]; then
    export TORCH_CUDA_ARCH_LIST="${arch:0:${#arch}-1}.${arch: -1}"   # 90 -> 9.0
  fi
  CUDA_ARGS=("-DCMAKE_CUDA_COMPILER=$cuda_root/bin/nvcc" "-DCUDAToolkit_ROOT=$cuda_root"
             "-DCUDA_TOOLKIT_ROOT_DIR=$cuda_root" "-DCMAKE_CUDA_ARCHITECTURES=$arch")
  log "CUDA LibTorch: nvcc $("$cuda_root/bin/nvcc" --version | awk '/release/ && !f {print $(NF-1), $NF; f = 1}') at $cuda_root, CMAKE_CUDA_ARCHITECTURES=$arch, TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-unset}"
else
  log "CPU LibTorch (no libtorch_cuda.so next to it)"
fi

# Run-time library path: LibTorch and CUDA first, the extracted libraries last (appended, so
# that the machine's own libraries win).
RUNTIME_DIRS=()
[ -n "$TORCH_LIB_DIR" ] && RUNTIME_DIRS+=("$TORCH_LIB_DIR")
RUNTIME_DIRS+=("${NVIDIA_LIB_DIRS[@]}" "${LIBDIRS[@]}")
runtime_path=$(IFS=:; echo "${RUNTIME_DIRS[*]}")
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$runtime_path"

# env.sh for running momu and the tests later.
mkdir -p "$BUILD_DIR"
{
  echo "# Generated by scripts/device_build.sh: source it before running momu or ctest."
  echo "export MOMU_DEPS_PREFIX='$PREFIX'"
  echo "export LD_LIBRARY_PATH=\"\${LD_LIBRARY_PATH:+\$LD_LIBRARY_PATH:}$runtime_path\""
  echo "export PKG_CONFIG_PATH=\"$pc_path\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}\""
  [ -f "$PREFIX/etc/momu-fonts.conf" ] && echo "export FONTCONFIG_FILE='$PREFIX/etc/momu-fonts.conf'"
  if [ -n "$CUDA_BIN" ]; then
    echo "export CUDA_HOME='$CUDA_HOME'"
    echo "export PATH=\"$CUDA_BIN:\$PATH\""
  fi
} > "$BUILD_DIR/env.sh"
log "wrote $BUILD_DIR/env.sh"

# ---------------------------------------------------------------------------------------------
# 3. Configure and build.
GENERATOR=()
if command -v ninja > /dev/null; then
  GENERATOR=(-G Ninja)
  if [ -f "$BUILD_DIR/CMakeCache.txt" ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD_DIR/CMakeCache.txt"; then
    die "$BUILD_DIR was configured with another generator; remove it or set MOMU_BUILD_DIR"
  fi
elif [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  warn "ninja not found: using CMake's default generator"
fi
prefix_path="$PREFIX/usr;$PREFIX/usr/lib/$ARCH_TRIPLET/cmake;$PREFIX/usr/share/cmake"
[ ${#TORCH_ARG[@]} -eq 0 ] && prefix_path="$prefix_path;$torch_cmake"
build_rpath=$(IFS=';'; echo "${RUNTIME_DIRS[*]}")
extra_args=()
# shellcheck disable=SC2206
[ -n "${MOMU_CMAKE_ARGS:-}" ] && extra_args=(${MOMU_CMAKE_ARGS})

configure=(cmake -S "$REPO" -B "$BUILD_DIR" "${GENERATOR[@]}"
  "-DCMAKE_BUILD_TYPE=$BUILD_TYPE"
  "-DCMAKE_PREFIX_PATH=$prefix_path"
  "${TORCH_ARG[@]}"
  "-DPKG_CONFIG_EXECUTABLE=$PKG_CONFIG_BIN"
  -DPKG_CONFIG_USE_CMAKE_PREFIX_PATH=OFF
  "-DCMAKE_BUILD_RPATH=$build_rpath"
  "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags"
  "${CUDA_ARGS[@]}" "${extra_args[@]}" "$@")
log "configuring: ${configure[*]}"
"${configure[@]}"

# Which copies were found (the extracted ones unless the machine has its own).
for var in Torch_DIR GTest_DIR benchmark_DIR CLI11_DIR nlohmann_json_DIR pkgcfg_lib_SNDFILE_sndfile pkgcfg_lib_SOXR_soxr; do
  val=$(grep -E "^$var(:[A-Z]+)?=" "$BUILD_DIR/CMakeCache.txt" | head -n1 | cut -d= -f2- || true)
  log "  $var = ${val:-?}"
done

if [ "${MOMU_CONFIGURE_ONLY:-0}" = "1" ]; then
  log "configured $BUILD_DIR (MOMU_CONFIGURE_ONLY=1: not building)"
  exit 0
fi
targets=()
for t in ${MOMU_TARGETS:-}; do targets+=(--target "$t"); done
log "building ${MOMU_TARGETS:-all targets} with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS" "${targets[@]}"

# ---------------------------------------------------------------------------------------------
# 4. Check the result.
if [ -x "$BUILD_DIR/momu" ]; then
  if ldd "$BUILD_DIR/momu" | grep -q 'not found'; then
    ldd "$BUILD_DIR/momu" | grep 'not found' >&2
    warn "some libraries of momu are not found even with $BUILD_DIR/env.sh"
  fi
  log "momu $("$BUILD_DIR/momu" --version 2>&1 | head -n1)"
  if [ $TORCH_CUDA = 1 ]; then
    "$BUILD_DIR/momu" --device cuda info || warn "momu --device cuda info failed"
  else
    "$BUILD_DIR/momu" info || warn "momu info failed"
  fi
fi
rel_build=${BUILD_DIR#"$REPO"/}
log "done. To run the tests:"
log "  source $rel_build/env.sh && ctest --test-dir $rel_build --output-on-failure -j $JOBS"

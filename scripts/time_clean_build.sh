#!/usr/bin/env bash
# Times a clean build the way scripts/setup.sh builds (issue 15): a fresh clone of a commit in a
# temporary folder, configure, `--target momu`, then everything. Packages must be installed
# (scripts/setup.sh --no-build). Prints one JSON line; the build log stays in the folder.
#   scripts/time_clean_build.sh [commit] [jobs]
set -euo pipefail
commit=${1:-HEAD}
jobs=${2:-$(nproc)}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/momu-clean-build.XXXXXX)
git clone -q "$repo" "$dir/src"
git -C "$dir/src" checkout -q "$commit"
cd "$dir/src"
start=$SECONDS
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release > "$dir/configure.log"
configured=$((SECONDS - start))
momu=null
# Older commits have no momu-first step in setup.sh: wait for build/momu in the background.
( while [ ! -x build/momu ]; do sleep 2; done; echo $((SECONDS - start)) > "$dir/momu_ready" ) &
watcher=$!
if grep -q 'target momu' scripts/setup.sh; then cmake --build build -j "$jobs" --target momu > "$dir/build.log"; fi
cmake --build build -j "$jobs" >> "$dir/build.log"
all=$((SECONDS - start))
wait "$watcher" || true
[ -f "$dir/momu_ready" ] && momu=$(cat "$dir/momu_ready")
compiler_s=$(awk 'NR>1{s+=$2-$1} END{printf "%.0f", s/1000}' build/.ninja_log)
echo "{\"commit\":\"$(git rev-parse --short HEAD)\",\"jobs\":$jobs,\"configure_s\":$configured,\"momu_ready_s\":$momu,\"all_s\":$all,\"compiler_s\":$compiler_s,\"folder\":\"$dir\"}"

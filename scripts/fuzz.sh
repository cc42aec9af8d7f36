#!/usr/bin/env bash
# Builds momu's libFuzzer targets (fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/ (the normal build/ is not touched) and runs each.
#   scripts/fuzz.sh                 every target for 60 s
#   scripts/fuzz.sh 300             every target for 300 s
#   scripts/fuzz.sh 300 bvh npy     only these targets (names without the fuzz_ prefix)
#   MOMU_FUZZ_RUNS=1000000 scripts/fuzz.sh 3600   stop each target after 10^6 executions
#                                   (SECONDS still caps the time)
#   MOMU_FUZZ_JOBS=4                parallel compile jobs (default 1)
# Needs clang and the libFuzzer runtime (Debian: clang, libclang-rt-<version>-dev); as root the
# script installs them when missing, otherwise it says what to install. These are not needed for
# the normal build or CI. Results: build-fuzz/logs/<target>.log, the grown corpora in
# build-fuzz/corpus/<target>/, crashes in build-fuzz/artifacts/<target>/; a summary line per
# target at the end. Exit status 1 when a target found a crash, hang, leak or UB report.
# A found input goes, once the library is fixed, to tests/data/fuzz_regressions/<target>/ (the
# normal test suite replays it: tests/io/test_fuzz_regressions.cpp). See docs/reliability.md.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
shift || true
SHARED_DIR="${MOMU_SHARED_DIR:-$(pwd)/../shared}"
BUILD=build-fuzz
JOBS="${MOMU_FUZZ_JOBS:-1}"

# --- tools
need=()
command -v clang++ >/dev/null || need+=(clang)
if command -v clang++ >/dev/null; then
  rt="$(clang++ -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a"
  if [ ! -f "$rt" ]; then
    major="$(clang++ -dumpversion | cut -d. -f1)"
    need+=("libclang-rt-${major}-dev")
  fi
else
  need+=(libclang-rt-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "fuzz: installing ${need[*]} (clang and the libFuzzer runtime, only needed for fuzzing)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
    exec "$0" "$SECONDS_PER_TARGET" "$@"
  fi
  echo "fuzz: missing ${need[*]}; install with: sudo apt-get install ${need[*]}" >&2
  exit 2
fi
command -v ffmpeg >/dev/null || echo "fuzz: no ffmpeg, the audio target starts without seeds" >&2

# --- build
nice -n 19 cmake -S fuzz -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
nice -n 19 cmake --build "$BUILD" -j "$JOBS"

# --- seeds (regenerated each run, from real files; never written into the repository)
rm -rf "$BUILD/seeds"
python3 fuzz/make_seeds.py "$BUILD/seeds" "$SHARED_DIR"

dict_of() {
  case "$1" in
    bvh) echo fuzz/dict/bvh.dict ;;
    npy) echo fuzz/dict/npy.dict ;;
    safetensors|latent) echo fuzz/dict/safetensors.dict ;;
    motion_json|dance_with_melody|config|model_config) echo fuzz/dict/json.dict ;;
    *) echo "" ;;
  esac
}
max_len_of() {
  case "$1" in
    audio) echo 65536 ;;
    model_config) echo 32768 ;;
    *) echo 16384 ;;
  esac
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in "$BUILD"/fuzz_*; do [ -x "$t" ] && targets+=("$(basename "$t" | sed 's/^fuzz_//')"); done
fi

# LeakSanitizer: only LibTorch's one-time allocations at start-up are suppressed (fuzz/lsan.supp).
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0:abort_on_error=1:symbolize=1"
export LSAN_OPTIONS="suppressions=$(pwd)/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMP_NUM_THREADS=1

mkdir -p "$BUILD/logs"
summary=()
status=0
for t in "${targets[@]}"; do
  bin="$BUILD/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: no target fuzz_$t" >&2; exit 2; }
  mkdir -p "$BUILD/corpus/$t" "$BUILD/artifacts/$t" "$BUILD/seeds/$t"
  args=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048
        -max_len="$(max_len_of "$t")" -print_final_stats=1
        -artifact_prefix="$BUILD/artifacts/$t/")
  [ -n "${MOMU_FUZZ_RUNS:-}" ] && args+=(-runs="$MOMU_FUZZ_RUNS")
  d="$(dict_of "$t")"
  [ -n "$d" ] && args+=(-dict="$d")
  echo "fuzz: $t (${SECONDS_PER_TARGET} s${MOMU_FUZZ_RUNS:+, at most $MOMU_FUZZ_RUNS runs})"
  start=$(date +%s)
  rc=0
  nice -n 19 "$bin" "${args[@]}" "$BUILD/corpus/$t" "$BUILD/seeds/$t" >"$BUILD/logs/$t.log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$BUILD/logs/$t.log" | tail -1 | awk '{print $2}')
  last=$(grep -E '^#[0-9]+' "$BUILD/logs/$t.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
  found=$(ls "$BUILD/artifacts/$t" | wc -l)
  line="$t: ${execs:-?} executions, ${last:-cov ?}, ${took} s, exit $rc, $found artifact(s)"
  summary+=("$line")
  echo "  $line"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    grep -E 'ERROR|SUMMARY|runtime error|uncaught|terminate|what\(\)' "$BUILD/logs/$t.log" | head -5 | sed 's/^/    /'
  fi
done
echo "fuzz: summary"
printf '  %s\n' "${summary[@]}"
exit $status

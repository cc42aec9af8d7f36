#!/bin/sh
# The C++ path against the PyTorch-Python reference of the same denoiser, same machine, same
# threads, one run: bench_torch_parity (C++) writes seeded inputs and its outputs and times a
# denoiser call and a training step; bench/torch_reference.py checks it gets the same outputs and
# times the same work. Prints one JSON line (both sides, speed-ups, outputs_equal); exit 1 when the
# outputs differ.
# Python: $PYTHON, else /usr/bin/python3 (Debian's, which python3-torch installs into).
# Usage: bench/compare_torch.sh [build dir (build)] [threads (2)] [model folder (models/default)]
# $MOMU_BENCH_REPEATS (20) denoiser calls and $MOMU_BENCH_TRAIN_STEPS (5) training steps are timed.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
threads=${2:-2}
model=${3:-$here/models/default}
repeats=${MOMU_BENCH_REPEATS:-20}
steps=${MOMU_BENCH_TRAIN_STEPS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
OMP_WAIT_POLICY=PASSIVE "$build/bench_torch_parity" --model "$model" --threads "$threads" \
    --io "$tmp/io.safetensors" --repeats "$repeats" --train-steps "$steps" > "$tmp/cpp.json"
OMP_WAIT_POLICY=PASSIVE "${PYTHON:-/usr/bin/python3}" "$here/bench/torch_reference.py" --io "$tmp/io.safetensors" \
    --cpp "$tmp/cpp.json" --threads "$threads" --repeats "$repeats" --train-steps "$steps"

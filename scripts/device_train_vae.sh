#!/usr/bin/env bash
# The BiCoR-VAE base runs on a CUDA machine (see docs/training_runs.md): builds momu with
# scripts/device_build.sh, runs the CUDA parity tests, then trains
#   1. the music VAE                        -> runs/vae_base_music
#   2. the motion VAE, lambda_c from config -> runs/vae_base_motion
#   3. the motion VAE, lambda_c = 0         -> runs/vae_base_motion_nocontrast (ablation)
# on a prepared folder (a float16 `momu prepare` cache works), packing each run folder
# (config, metrics, EMA weights; no trainer state) into $OUT/<run>.tar.part-* as soon as it ends.
#   scripts/device_train_vae.sh <prepared dir> [config, default configs/vae_base.json]
set -euo pipefail
data=${1:?usage: scripts/device_train_vae.sh <prepared dir> [config]}
config=${2:-configs/vae_base.json}
out=${OUT:-/tmp/momu-out}
mkdir -p "$out" runs
SECONDS=0
MOMU_TARGETS="momu" scripts/device_build.sh > "$out/build.log" 2>&1 || { tail -60 "$out/build.log"; exit 1; }
source build-cuda/env.sh
echo "build: ${SECONDS}s"
m=build-cuda/momu
$m --device cuda info
pack() {
  tar -cf - --exclude='*/trainer/*' --exclude='*/best/*' "runs/$1" | split -b 15M - "$out/$1.tar.part-"
  echo "packed $1 at ${SECONDS}s"
}
$m -q --device cuda train-vae --stage music --data "$data" --config "$config" --out runs/vae_base_music
pack vae_base_music
$m -q --device cuda train-vae --stage motion --data "$data" --config "$config" \
  --music-vae runs/vae_base_music/last --out runs/vae_base_motion
pack vae_base_motion
$m -q --device cuda train-vae --stage motion --data "$data" --config "$config" \
  --music-vae runs/vae_base_music/last --out runs/vae_base_motion_nocontrast --lambda-c 0
pack vae_base_motion_nocontrast
if [ "${MOMU_DEVICE_TESTS:-1}" = 1 ]; then
  (cmake --build build-cuda --target momu_tests > "$out/tests_build.log" 2>&1 &&
   ctest --test-dir build-cuda -R 'CudaParity|ConvVae|RhythmContrastive|VaeTrainer' \
     --output-on-failure -j 8 2>&1 | tail -25) || { echo "tests failed"; tail -30 "$out/tests_build.log"; }
fi
ls -la "$out"

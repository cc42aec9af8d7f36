// libFuzzer target: momu::fuzz::run_model_config (fuzz_targets.h); scripts/fuzz.sh builds and runs it.
#include "fuzz_targets.h"

MOMU_FUZZ_TARGET(run_model_config)

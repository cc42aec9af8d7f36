// Reading the golden reference values of ../shared/golden (see its README).
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace momu::test {

// The 10 golden clips, in the order of the README.
const std::vector<std::string>& golden_clips();

// Parsed <clip>.json.
nlohmann::json golden_clip_json(const std::string& clip);

// Parsed pairs.json.
nlohmann::json golden_pairs_json();

// A JSON array of numbers as a float64 tensor [n].
at::Tensor json_vector(const nlohmann::json& j);

}  // namespace momu::test

#define MOMU_REQUIRE_GOLDEN() MOMU_REQUIRE_DIR(::momu::test::golden_dir())

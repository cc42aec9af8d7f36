// Checks of training run folders shared by the kill and data-parallel tests.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/json_file.h"
#include "io/safetensors.h"
#include "train/metrics_log.h"

namespace momu::test {

// Every file of a checkpoint with trainer state loads, and its parts agree on the step.
inline void expect_whole_checkpoint(const std::filesystem::path& last) {
  SCOPED_TRACE(last.string());
  nlohmann::json config, state;
  ASSERT_NO_THROW(config = read_json_file(last / "config.json"));
  ASSERT_NO_THROW(load_safetensors(last / "model.safetensors"));
  ASSERT_NO_THROW(load_safetensors(last / "trainer" / "weights.safetensors"));
  ASSERT_NO_THROW(state = read_json_file(last / "trainer" / "state.json"));
  EXPECT_EQ(config.at("step"), state.at("step"));
  torch::serialize::InputArchive optimizer;
  EXPECT_NO_THROW(optimizer.load_from((last / "trainer" / "optimizer.pt").string()));
}

// The two safetensors files hold the same tensors, bit for bit.
inline void expect_same_tensors(const std::filesystem::path& a, const std::filesystem::path& b) {
  SCOPED_TRACE(b.string());
  const auto fa = load_safetensors(a), fb = load_safetensors(b);
  ASSERT_EQ(fa.tensors.size(), fb.tensors.size());
  for (const auto& [name, t] : fa.tensors) {
    ASSERT_TRUE(fb.tensors.count(name)) << name;
    EXPECT_TRUE(torch::equal(t, fb.tensors.at(name))) << name << " differs";
  }
}

// Training records of a metrics.jsonl without the timing fields (which differ between runs).
inline std::vector<nlohmann::json> stable_metrics(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  for (auto j : read_metrics(path)) {
    j.erase("samples_per_s");
    j.erase("seconds_per_step");
    out.push_back(j);
  }
  return out;
}

}  // namespace momu::test

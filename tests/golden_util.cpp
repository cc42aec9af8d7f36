#include "golden_util.h"

#include <fstream>

namespace momu::test {

const std::vector<std::string>& golden_clips() {
  static const std::vector<std::string> clips = {"DANCE_C_2", "DANCE_C_4", "DANCE_C_6", "DANCE_C_8",
                                                 "DANCE_R_2", "DANCE_R_3", "DANCE_R_4", "DANCE_R_5",
                                                 "DANCE_R_7", "DANCE_R_9"};
  return clips;
}

namespace {
nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return nlohmann::json::parse(in);
}
}  // namespace

nlohmann::json golden_clip_json(const std::string& clip) {
  return read_json(golden_dir() / (clip + ".json"));
}

nlohmann::json golden_pairs_json() { return read_json(golden_dir() / "pairs.json"); }

at::Tensor json_vector(const nlohmann::json& j) {
  return torch::tensor(j.get<std::vector<double>>(), torch::kFloat64);
}

}  // namespace momu::test

// momu inspect: what a checkpoint folder (or a safetensors file) holds.
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "core/json_file.h"
#include "io/safetensors.h"
#include "momu/core/error.h"

namespace momu::cli {

void add_inspect_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string path;
    bool tensors = false;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("inspect", "print a checkpoint's config, parameter counts and tensors");
  cmd->add_option("CHECKPOINT", args->path, "a checkpoint folder (config.json + model.safetensors) "
                  "or a .safetensors file")->required();
  cmd->add_flag("--tensors", args->tensors, "list every tensor (name, dtype, shape)");
  cmd->add_flag("--json", args->json, "one JSON object on stdout instead of text");
  cmd->footer("Examples:\n  momu inspect runs/vae_motion/last\n  momu inspect runs/vae_motion/last/model.safetensors --tensors");
  cmd->callback([&ctx, args] {
    namespace fs = std::filesystem;
    const fs::path p(args->path);
    nlohmann::json config = nullptr;
    fs::path weights = p;
    if (fs::is_directory(p)) {
      if (!fs::exists(p / "config.json")) throw IoError(p.string() + ": no config.json in the folder");
      config = read_json_file(p / "config.json");
      weights = p / "model.safetensors";
    } else if (!fs::exists(p)) {
      throw IoError(p.string() + ": no such file or folder");
    }
    const SafetensorsFile st = load_safetensors(weights);
    std::map<std::string, int64_t> groups;  // parameters per top-level prefix
    int64_t total = 0;
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& [name, t] : st.tensors) {
      const std::string group = name.substr(0, name.find('.'));
      groups[group] += t.numel();
      total += t.numel();
      tensors.push_back({{"name", name},
                         {"dtype", safetensors_dtype_name(t.scalar_type())},
                         {"shape", t.sizes().vec()}});
    }
    nlohmann::json out{{"path", p.string()},
                       {"weights", weights.string()},
                       {"parameters", total},
                       {"parameters_by_module", groups},
                       {"tensor_count", st.tensors.size()},
                       {"metadata", st.metadata},
                       {"config", config}};
    if (args->tensors) out["tensors"] = tensors;
    if (args->json) {
      print_json(out);
      return;
    }
    std::cout << "checkpoint: " << p.string() << "\n";
    if (!config.is_null()) {
      std::cout << "format: " << config.value("format", "?") << ", stage: "
                << config.value("stage", "?") << ", step: " << config.value("step", 0) << "\n";
    }
    std::cout << "parameters: " << total << " in " << st.tensors.size() << " tensors\n";
    for (const auto& [g, n] : groups) std::cout << "  " << g << ": " << n << "\n";
    if (!config.is_null()) std::cout << "config:\n" << config.dump(2) << "\n";
    if (args->tensors) {
      std::cout << "tensors:\n";
      for (const auto& t : tensors) {
        std::cout << "  " << t["name"].get<std::string>() << " " << t["dtype"].get<std::string>()
                  << " " << t["shape"].dump() << "\n";
      }
    }
    (void)ctx;
  });
}

}  // namespace momu::cli

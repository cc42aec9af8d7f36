// momu plot: training curves from metrics.jsonl files as a PNG line plot
// (src/render/line_plot.h, src/train/metrics_log.h).
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_common.h"
#include "momu/core/error.h"
#include "render/line_plot.h"
#include "train/metrics_log.h"

namespace momu::cli {

namespace fs = std::filesystem;

namespace {

struct SplitKey {
  std::string split, key;
};

SplitKey parse_key(const std::string& s) {
  const auto colon = s.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) {
    throw ConfigError("plot: --key " + s + ": expected SPLIT:KEY, e.g. train:loss or validation:loss");
  }
  return {s.substr(0, colon), s.substr(colon + 1)};
}

const Rgb kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                        {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};
const LineStyle kStyles[] = {LineStyle::kSolid, LineStyle::kDashed, LineStyle::kDotted,
                             LineStyle::kDashDot};

}  // namespace

void add_plot_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::vector<std::string> metrics, labels, keys;
    std::string out;
    LinePlotConfig config;
    std::string x_label = "step";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("plot", "draw training curves from metrics.jsonl files (PNG)");
  cmd->add_option("--metrics", a->metrics, "a run's metrics.jsonl (repeat for several runs)")
      ->required();
  cmd->add_option("--label", a->labels,
                  "name of each run in the legend, in --metrics order (default: its folder)");
  cmd->add_option("--key", a->keys,
                  "SPLIT:KEY to draw from every run (repeat; default train:loss)");
  cmd->add_option("--out", a->out, "picture to write (.png)")->required();
  cmd->add_option("--title", a->config.title, "title above the plot");
  cmd->add_option("--x-label", a->x_label, "x axis label (default: step)");
  cmd->add_option("--y-label", a->config.y_label, "y axis label (default: the key when only one)");
  cmd->add_flag("--log-y", a->config.log_y, "logarithmic y axis");
  cmd->add_option("--width", a->config.width, "pixels (default 900)")->check(CLI::Range(200, 8192));
  cmd->add_option("--height", a->config.height, "pixels (default 500)")
      ->check(CLI::Range(150, 8192));
  cmd->footer(
      "Every run gets a colour and every key a line style; sparse series (validation) get dots.\n\n"
      "Example (the README's figure):\n"
      "  momu plot --metrics runs/diff_music2motion/metrics.jsonl \\\n"
      "      --metrics runs/diff_motion2music/metrics.jsonl --label music2motion --label motion2music \\\n"
      "      --key train:loss --key validation:loss --key validation:loss_null_condition \\\n"
      "      --log-y --title 'Diffusion experts' --y-label 'epsilon MSE' --out docs/img/training.png");
  cmd->callback([&ctx, a] {
    ctx.apply_runtime();
    if (lower_extension(a->out) != ".png") throw ConfigError("plot: --out " + a->out + ": write a .png");
    if (!a->labels.empty() && a->labels.size() != a->metrics.size()) {
      throw ConfigError("plot: " + std::to_string(a->labels.size()) + " --label for " +
                        std::to_string(a->metrics.size()) + " --metrics; give one per run or none");
    }
    ctx.check_output_file("plot --out", a->out);
    std::vector<SplitKey> keys;
    for (const auto& k : a->keys) keys.push_back(parse_key(k));
    if (keys.empty()) keys.push_back({"train", "loss"});
    a->config.x_label = a->x_label;
    if (a->config.y_label.empty() && keys.size() == 1) a->config.y_label = keys[0].key;
    a->config.validate();

    std::vector<PlotSeries> series;
    nlohmann::json report = nlohmann::json::array();
    for (size_t r = 0; r < a->metrics.size(); ++r) {
      const fs::path file = a->metrics[r];
      const auto lines = read_metrics(file);
      if (lines.empty()) throw FormatError(file.string() + ": empty metrics file (no JSON lines)");
      std::string run = a->labels.empty() ? file.parent_path().filename().string() : a->labels[r];
      if (run.empty()) run = file.stem().string();
      for (size_t k = 0; k < keys.size(); ++k) {
        PlotSeries s;
        s.label = run + " " + keys[k].split + " " + keys[k].key;
        s.color = kPalette[r % std::size(kPalette)];
        s.style = kStyles[k % std::size(kStyles)];
        for (const auto& line : lines) {
          if (line.value("split", std::string()) != keys[k].split || !line.contains(keys[k].key)) {
            continue;
          }
          const auto& v = line[keys[k].key];
          if (!v.is_number() || !line.contains("step") || !line["step"].is_number()) {
            throw FormatError(file.string() + ": '" + keys[k].key + "' at step " +
                              line.value("step", nlohmann::json()).dump() + " is not a number");
          }
          s.x.push_back(line["step"].get<double>());
          s.y.push_back(v.get<double>());
        }
        if (s.x.empty()) {
          throw ConfigError(file.string() + ": no '" + keys[k].split + "' line has '" +
                            keys[k].key + "'");
        }
        s.markers = s.x.size() < 30;
        report.push_back({{"series", s.label}, {"points", s.x.size()}, {"last", s.y.back()}});
        series.push_back(std::move(s));
      }
    }
    write_png(render_line_plot(series, a->config), a->out);
    print_json({{"out", a->out}, {"series", report}});
  });
}

}  // namespace momu::cli

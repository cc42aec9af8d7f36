// momu prepare: decode, align and cache a dataset for training and evaluation.
#include <filesystem>

#include "cli_common.h"
#include "data/prepare.h"
#include "momu/core/error.h"
#include "momu_paths.h"

namespace fs = std::filesystem;

namespace momu::cli {

namespace {

struct PrepareOptions {
  std::string dataset = "dwm";
  std::string root;
  std::string out;
  std::string time_base = "corrected";
  bool beat_snap = false;
  std::string alignment;
  std::string split;
  double fps = 0.0;
  std::string skeleton;
  int workers = 0;
  std::string storage = "float32";
};

// data/splits/dwm.json of the source tree, found next to the binary's repository or the cwd.
fs::path default_dwm_split() {
  for (const fs::path& base : {fs::current_path(), fs::path(MOMU_SOURCE_DIR)}) {
    if (fs::exists(base / "data" / "splits" / "dwm.json")) return base / "data/splits/dwm.json";
  }
  return {};
}

void run(const PrepareOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  ctx.check_output_dir("prepare --out", o.out);
  ctx.check_output_dir("prepare --out", fs::path(o.out) / "clips");  // where the clips go
  const LogSink log = ctx.log_sink();
  std::vector<PairSource> sources;
  nlohmann::json dataset = {{"layout", o.dataset}, {"root", fs::absolute(o.root).string()}};
  if (o.dataset == "dwm") {
    if (o.time_base != "corrected" && o.time_base != "published") {
      throw ConfigError("--time-base must be corrected or published, got " + o.time_base);
    }
    DwmLayoutOptions d;
    d.corrected_time_base = o.time_base == "corrected";
    d.beat_snap = o.beat_snap;
    d.alignment = o.alignment;
    d.split = o.split.empty() ? default_dwm_split() : fs::path(o.split);
    if (o.split == "none") d.split.clear();
    if (d.split.empty() && o.split != "none") {
      log_to(log, LogLevel::kWarning, "no split list found (data/splits/dwm.json): clips get no split");
    }
    sources = discover_dance_with_melody(o.root, d, log);
    dataset["time_base"] = o.time_base;
    dataset["beat_snap"] = o.beat_snap;
    dataset["split_file"] = d.split.string();
  } else if (o.dataset == "pairs") {
    PairsLayoutOptions p;
    p.motion.fps = o.fps;
    p.motion.skeleton = o.skeleton;
    if (!o.split.empty() && o.split != "none") p.split = o.split;
    sources = discover_pairs(o.root, p, log);
  } else if (o.dataset == "loris") {
    LorisLayoutOptions l;
    l.motion.fps = o.fps;
    l.motion.skeleton = o.skeleton;
    sources = discover_loris(o.root, l, log);
  } else if (o.dataset == "aist") {
    AistLayoutOptions a;
    if (o.fps > 0) a.fps = o.fps;
    sources = discover_aist(o.root, a, log);
  } else {
    throw ConfigError("--dataset must be dwm, pairs, loris or aist, got " + o.dataset);
  }
  PrepareConfig config;
  config.workers = o.workers;
  config.half_precision = o.storage == "float16";
  log_to(log, LogLevel::kInfo, "preparing " + std::to_string(sources.size()) + " pairs from " +
                                   o.root + " into " + o.out);
  const PrepareSummary s =
      prepare_dataset(sources, o.out, config, dataset, log, ctx.progress_bar("prepare"));
  print_json({{"out", o.out},
              {"clips", s.clips},
              {"duration_min", s.total_duration_s / 60.0},
              {"seconds", s.seconds}});
}

}  // namespace

void add_prepare_command(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<PrepareOptions>();
  auto* cmd = app.add_subcommand("prepare", "decode, align and cache a dataset (features + index)");
  cmd->add_option("--dataset", o->dataset, "layout: dwm (Dance with Melody), pairs, loris, aist")
      ->capture_default_str();
  cmd->add_option("--root", o->root, "dataset folder")->required();
  cmd->add_option("--out", o->out, "output folder (clips/, index.json, stats.json)")->required();
  cmd->add_option("--time-base", o->time_base,
                  "dwm: corrected (alignment.json per-dance frame rate) or published (25 fps)")
      ->capture_default_str();
  cmd->add_flag("--beat-snap", o->beat_snap, "dwm: shift each music start by its beat_snap_s");
  cmd->add_option("--alignment", o->alignment, "dwm: corrections file (default ROOT/alignment.json)");
  cmd->add_option("--split", o->split,
                  "split list JSON (dwm default: data/splits/dwm.json; 'none' for no split)");
  cmd->add_option("--fps", o->fps, "frame rate of motion files that carry none (.npy)")
      ->check(fps_range());
  cmd->add_option("--skeleton", o->skeleton, "skeleton of .npy motions (dwm23, coco17, ...)");
  cmd->add_option("--workers", o->workers, "clips in parallel (default: all cores)")
      ->check(CLI::Range(0, kMaxThreads));
  cmd->add_option("--storage", o->storage,
                  "float32 (default) or float16: mel and motion at half the size, read back as "
                  "float32 (for carrying a cache to another machine)")
      ->check(CLI::IsMember({"float32", "float16"}));
  cmd->footer(
      "Examples:\n"
      "  momu prepare --dataset dwm --root ../shared/data/dance-with-melody --out prepared/dwm\n"
      "  momu prepare --dataset pairs --root my_pairs/ --fps 30 --out prepared/mine");
  cmd->callback([o, &ctx] { run(*o, ctx); });
}

}  // namespace momu::cli

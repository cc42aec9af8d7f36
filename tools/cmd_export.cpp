// momu export: convert a motion between JSON, NPY and BVH (chosen by the extensions).
#include <memory>

#include "cli_common.h"
#include "momu/io/motion_file.h"

namespace momu::cli {

void add_export_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string input, output;
    double fps = 0.0;
    std::string skeleton;
    std::string rotation_order = "ZXY";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("export", "convert a motion between .json, .npy and .bvh");
  cmd->add_option("INPUT", args->input,
                  "motion: .json (momu or Dance with Melody), .npy, .bvh or a Dance with Melody "
                  "folder")
      ->required();
  cmd->add_option("OUTPUT", args->output, "output file: .json, .npy or .bvh")->required();
  cmd->add_option("--fps", args->fps,
                  "frame rate of an .npy input (default 25); overrides the rate of other inputs")
      ->check(fps_range());
  cmd->add_option("--skeleton", args->skeleton,
                  "skeleton: how to read an .npy (default: guessed from its shape); for other "
                  "inputs, keep that skeleton's joints by name (e.g. dwm23 from an exported BVH)");
  cmd->add_option("--rotation-order", args->rotation_order,
                  "Euler order of the BVH rotation channels (default ZXY)");
  cmd->footer(
      "Examples:\n"
      "  momu export dance.npy dance.bvh --fps 25\n"
      "  momu export dance.bvh dance.npy --skeleton dwm23\n"
      "  momu export ../shared/data/dance-with-melody/DANCE_C_2 c2.json");
  cmd->callback([&ctx, args] {
    ctx.apply_runtime();
    ctx.check_output_file("export OUTPUT", args->output);
    MotionLoadOptions load;
    load.fps = args->fps;
    load.skeleton = args->skeleton;
    Motion m = load_motion(args->input, load);
    if (args->fps > 0) m.fps = args->fps;
    MotionSaveOptions save;
    save.bvh.rotation_order = args->rotation_order;
    save_motion(args->output, m, save);
    print_json({{"input", args->input},
                {"output", args->output},
                {"frames", m.num_frames()},
                {"joints", m.skeleton.num_joints()},
                {"dim", m.skeleton.dim},
                {"fps", m.fps},
                {"skeleton", m.skeleton.name}});
  });
}

}  // namespace momu::cli

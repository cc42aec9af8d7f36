// momu export: convert a motion between JSON, NPY and BVH (chosen by the extensions).
#include <memory>

#include "cli_common.h"
#include "momu/io/motion_file.h"

namespace momu::cli {

void add_export_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string input, output;  // INPUT, OUTPUT
    MotionInputArgs input_args;
    std::string rotation_order = "ZXY";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("export", "convert a motion between .json, .npy and .bvh");
  cmd->add_option("INPUT", args->input,
                  "motion: .json (momu or Dance with Melody), .npy, .bvh or a Dance with Melody "
                  "folder")
      ->required();
  cmd->add_option("OUTPUT", args->output, "output file: .json, .npy or .bvh")->required();
  add_motion_input_options(cmd, args->input_args);
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
    const Motion m = load_motion(args->input, args->input_args.load_options());
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

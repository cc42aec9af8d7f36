// momu.eval: the metrics of DESIGN.md section 7 on numpy arrays (the library's functions, the
// same protocol as `momu eval ... --json`), and momu.features: the rhythm features they build on
// (as `momu features ...`). Music is resampled to each protocol's rate (as the CLI loads it).
#include <ATen/ATen.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "convert.h"
#include "momu/audio/beat.h"
#include "momu/audio/onset.h"
#include "momu/audio/resample.h"
#include "momu/core/error.h"
#include "momu/eval/alignment_coherence.h"
#include "momu/eval/beat_align_score.h"
#include "momu/eval/beat_scores.h"
#include "momu/eval/fid.h"
#include "momu/eval/kinetic_features.h"
#include "momu/motion/kinematic_beats.h"

namespace momu::python {

namespace {

constexpr int kRhythmRateHz = 22050;  // librosa.load's default: onsets, beats, beat scores, BLC
constexpr int kRhythmHop = 512;

// Music as the protocol loads it: mono float [N] at `to_hz`.
at::Tensor music_at(const py::object& music, int64_t sample_rate, int to_hz,
                    const std::string& name) {
  const at::Tensor y = audio_arg(music, name);
  const int from_hz = sample_rate_arg(sample_rate);
  py::gil_scoped_release release;
  return resample_audio(y, from_hz, to_hz);
}

// joints [T, J, D] of any skeleton (metrics that need no bones).
at::Tensor joints_arg(const py::object& joints, const std::string& name = "joints") {
  return tensor_arg(joints, name, "[T, J, D] joint positions", {3}, /*allow_int=*/true);
}

py::dict blc(const py::object& joints, double fps, const py::object& music, int64_t sample_rate,
             const py::object& skeleton) {
  const Motion m = motion_arg(joints, fps, skeleton);
  AlignmentConfig c;
  const at::Tensor y = music_at(music, sample_rate, c.sample_rate_hz, "music");
  AlignmentResult r;
  {
    py::gil_scoped_release release;
    r = alignment_coherence(m.joints, m.skeleton, m.fps, y, c);
  }
  py::dict root;
  root["blc"] = r.root.blc;
  root["bpc"] = r.root.bpc;
  root["beat_lag_s"] = r.root.beat_lag_s;
  py::dict d;
  d["blc"] = r.foot.blc;
  d["bpc"] = r.foot.bpc;
  d["beat_lag_s"] = r.foot.beat_lag_s;
  d["tempo_bpm"] = r.tempo_bpm;
  d["tracker_tempo_bpm"] = r.tracker_tempo_bpm;
  d["frames"] = r.frames;
  d["fps"] = r.fps;
  d["root_vertical"] = root;
  return d;
}

py::dict bas(const py::object& joints, double fps, const py::object& music, int64_t sample_rate) {
  const at::Tensor j = joints_arg(joints);
  fps_arg(fps);
  BeatAlignConfig c;
  const at::Tensor y = music_at(music, sample_rate, c.music_rate_hz, "music");
  BeatAlignResult r;
  {
    py::gil_scoped_release release;
    r = beat_align_score(j, fps, y, c);
  }
  py::dict d;
  d["bas"] = r.bas;
  d["motion_frames"] = r.motion_frames;
  d["music_samples"] = r.music_samples;
  d["t60"] = r.t60;
  d["music_tempo_bpm"] = r.music_tempo_bpm;
  d["motion_beats"] = int_vector_to_numpy(r.motion_beats);
  d["music_beats"] = int_vector_to_numpy(r.music_beats);
  d["music_beats_all"] = int_vector_to_numpy(r.music_beats_all);
  return d;
}

py::dict beat_scores(const py::object& generated, const py::object& reference, int64_t sample_rate,
                     const std::string& variant) {
  BeatScoreConfig c;
  c.variant = onset_variant_from_string(variant);
  const at::Tensor g = music_at(generated, sample_rate, c.sample_rate_hz, "generated");
  const at::Tensor r = music_at(reference, sample_rate, c.sample_rate_hz, "reference");
  BeatPairScore s;
  {
    py::gil_scoped_release release;
    s = beat_scores_audio(g, r, c);
  }
  py::dict d;
  d["bcs"] = s.bcs;
  d["bhs"] = s.bhs;
  d["n_samples"] = s.n_samples;
  d["n_bins"] = s.n_bins;
  d["gen_beats"] = s.gen_beats;
  d["gt_beats"] = s.gt_beats;
  d["hits"] = s.hits;
  d["variant"] = to_string(c.variant);
  return d;
}

// A set for FID_k: [N, d] kinetic features, or motions (a sequence of [T, J, 3] arrays, or one
// [N, T, J, 3] array) whose kinetic features are computed here.
at::Tensor feature_set(const py::object& set, double fps, const py::object& skeleton,
                       const std::string& name) {
  if (py::isinstance<py::str>(set) || !py::hasattr(set, "__iter__")) {
    throw py::type_error(name + ": expected a list of motions [T, J, 3] or features [N, d]");
  }
  if (py::isinstance<py::array>(set) && set.cast<py::array>().ndim() == 2) {
    return tensor_arg(set, name, "[N, d] kinetic features", {2}, true, at::kDouble);
  }
  if (py::isinstance<py::array>(set) && set.cast<py::array>().ndim() != 4) {
    throw ShapeError(name +
                     ": expected [N, d] kinetic features, [N, T, J, 3] motions or a list "
                     "of [T, J, 3] motions, got a " +
                     std::to_string(set.cast<py::array>().ndim()) + "-D array");
  }
  std::vector<Motion> motions;
  for (const py::handle item : set) {
    motions.push_back(
        motion_arg(item, fps, skeleton, name + "[" + std::to_string(motions.size()) + "]"));
  }
  py::gil_scoped_release release;
  std::vector<at::Tensor> rows;
  for (size_t i = 0; i < motions.size(); ++i) {
    rows.push_back(naming_input(name + "[" + std::to_string(i) + "]", [&] {
      return kinetic_features(motions[i].joints, motions[i].fps, motions[i].skeleton);
    }));
  }
  if (rows.empty()) throw ShapeError(name + ": no motions");
  return at::stack(rows);
}

py::dict fid_k(const py::object& generated, const py::object& reference, double fps,
               std::optional<double> reference_fps, const py::object& skeleton) {
  fps_arg(fps);
  const double ref_fps = reference_fps ? fps_arg(*reference_fps, "reference_fps") : fps;
  const at::Tensor g = feature_set(generated, fps, skeleton, "generated");
  const at::Tensor r = feature_set(reference, ref_fps, skeleton, "reference");
  FidDivResult f;
  {
    py::gil_scoped_release release;
    f = fid_and_diversity(g, r);
  }
  py::dict d;
  d["fid_k"] = f.fid;
  d["div_k"] = f.div_gen;
  d["div_k_ref"] = f.div_ref;
  d["n_generated"] = f.n_gen;
  d["n_reference"] = f.n_ref;
  d["dim"] = f.dim;
  d["offset_applied"] = f.offset_applied;
  return d;
}

py::dict onsets(const py::object& audio, int64_t sample_rate, const std::string& variant) {
  const OnsetVariant v = onset_variant_from_string(variant);
  const at::Tensor y = music_at(audio, sample_rate, kRhythmRateHz, "audio");
  OnsetResult r;
  {
    py::gil_scoped_release release;
    r = detect_onsets(y, kRhythmRateHz, v);
  }
  py::dict d;
  d["frames"] = int_vector_to_numpy(r.frames);
  d["times_s"] = double_vector_to_numpy(r.times_s);
  d["sample_rate"] = r.sample_rate_hz;
  d["hop_length"] = r.hop_length;
  d["variant"] = to_string(v);
  return d;
}

py::dict beats(const py::object& audio, int64_t sample_rate) {
  const at::Tensor y = music_at(audio, sample_rate, kRhythmRateHz, "audio");
  BeatTrackConfig c;
  c.sample_rate_hz = kRhythmRateHz;
  c.hop_length = kRhythmHop;
  BeatResult r;
  {
    py::gil_scoped_release release;
    r = beat_track_audio(y, c);
  }
  py::dict d;
  d["tempo_bpm"] = r.tempo_bpm;
  d["beat_frames"] = int_vector_to_numpy(r.beat_frames);
  d["beat_times_s"] = double_vector_to_numpy(r.beat_times_s);
  d["sample_rate"] = c.sample_rate_hz;
  d["hop_length"] = c.hop_length;
  return d;
}

py::dict kinematic_beats_py(const py::object& joints, double fps) {
  const at::Tensor j = joints_arg(joints);
  fps_arg(fps);
  KinematicBeats b;
  {
    py::gil_scoped_release release;
    b = kinematic_beats(j, fps);
  }
  py::dict d;
  d["fps"] = b.fps;
  d["num_frames"] = b.num_frames;
  d["beat_frames"] = int_vector_to_numpy(b.beat_frames);
  d["velocity"] = tensor_to_numpy(b.velocity);
  d["velocity_smoothed"] = tensor_to_numpy(b.velocity_smoothed);
  return d;
}

py::array kinetic_features_py(const py::object& joints, double fps, const py::object& skeleton) {
  const Motion m = motion_arg(joints, fps, skeleton);
  at::Tensor f;
  {
    py::gil_scoped_release release;
    f = kinetic_features(m.joints, m.fps, m.skeleton);
  }
  return tensor_to_numpy(f);
}

}  // namespace

void register_eval(py::module_& m) {
  py::module_ e = m.def_submodule("eval", R"doc(
Evaluation metrics (DESIGN.md section 7) on numpy arrays, computed by the library exactly as
`momu eval ... --json` computes them from files. Music is mono float [N] at any sample rate
(resampled to the protocol's rate); motions are joints [T, J, D] at fps. Scores are fractions
(the CLI prints BCS/BHS x100).)doc");
  e.def("blc", &blc, py::arg("joints"), py::arg("fps"), py::arg("music"), py::arg("sample_rate"),
        py::arg("skeleton") = "dwm23", R"doc(
Beat-locking coherence of a dance with its music (momu eval alignment): foot speed against the
music's beat -> dict blc, bpc, beat_lag_s, tempo_bpm, tracker_tempo_bpm, frames, fps,
root_vertical {blc, bpc, beat_lag_s}. joints [T, J, 3] on `skeleton` (its foot joints are used).)doc");
  e.def("bas", &bas, py::arg("joints"), py::arg("fps"), py::arg("music"), py::arg("sample_rate"),
        R"doc(
Beat Align Score, Bailando's definition (momu eval bas) -> dict bas, motion_frames,
music_samples, t60, music_tempo_bpm, motion_beats, music_beats, music_beats_all (frames at
60 fps, int64 arrays). Both are cut to the shorter duration first.)doc");
  e.def("beat_scores", &beat_scores, py::arg("generated"), py::arg("reference"),
        py::arg("sample_rate"), py::arg("variant") = "loris", R"doc(
Beat coverage and hit scores of generated music against reference music (momu eval beats, one
pair; variant "loris" or "d2m") -> dict bcs, bhs (fractions), n_samples, n_bins, gen_beats,
gt_beats, hits, variant. Both signals share sample_rate.)doc");
  e.def("fid_k", &fid_k, py::arg("generated"), py::arg("reference"), py::arg("fps") = 30.0,
        py::arg("reference_fps") = py::none(), py::arg("skeleton") = "dwm23", R"doc(
FID_k and Div_k on kinetic features (momu eval fid) -> dict fid_k, div_k, div_k_ref,
n_generated, n_reference, dim, offset_applied. Each set is a list of motions [T, J, 3] (any
lengths; at fps, the reference at reference_fps, default fps), an array [N, T, J, 3], or
precomputed features [N, d] (momu.features.kinetic_features). At least 2 per set.)doc");

  py::module_ f = m.def_submodule("features", R"doc(
Rhythm features on numpy arrays, as `momu features ...` computes them (librosa 0.9.2 semantics;
music resampled to 22050 Hz, hop 512).)doc");
  f.def("onsets", &onsets, py::arg("audio"), py::arg("sample_rate"), py::arg("variant") = "loris",
        R"doc(
Onsets (librosa onset_detect with the variant's peak picking: "loris" or "d2m") -> dict frames
(int64, hop 512 at 22050 Hz), times_s, sample_rate, hop_length, variant.)doc");
  f.def("beats", &beats, py::arg("audio"), py::arg("sample_rate"), R"doc(
Tempo and beats (librosa beat_track) -> dict tempo_bpm, beat_frames (int64), beat_times_s,
sample_rate, hop_length.)doc");
  f.def("kinematic_beats", &kinematic_beats_py, py::arg("joints"), py::arg("fps"), R"doc(
Bailando's kinematic beats of joints [T, J, D] at fps (resampled to 60 fps, mean joint speed,
Gaussian sigma 5, strict local minima) -> dict fps (60), num_frames, beat_frames (int64),
velocity, velocity_smoothed (float64).)doc");
  f.def("kinetic_features", &kinetic_features_py, py::arg("joints"), py::arg("fps"),
        py::arg("skeleton") = "dwm23",
        "Kinetic features of a motion (the FID_k features): joints [T, J, 3] -> float64 [3 J].");
}

}  // namespace momu::python

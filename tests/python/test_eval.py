"""momu.eval and momu.features against the golden references (../shared/golden: librosa 0.9.2 and
Bailando's code) and against `momu eval ... --json` on the same files."""
import json
import subprocess

import numpy as np
import pytest

import momu

CLIP = "DANCE_C_2"


def clip_json(golden, clip=CLIP):
    return json.loads((golden / f"{clip}.json").read_text())


def motion(golden, clip=CLIP):
    return np.load(golden / f"{clip}_motion.npy")  # [750, 23, 3] at 25 fps


def test_onsets_and_beats_match_librosa(golden):
    ref = clip_json(golden)
    audio, sr = momu.load_audio(golden / f"{CLIP}_22050.wav")
    for variant in ("loris", "d2m"):
        onsets = momu.features.onsets(audio, sr, variant=variant)
        assert onsets["frames"].tolist() == ref[f"onsets_{variant}"]["frames"]
    beats = momu.features.beats(audio, sr)
    assert beats["beat_frames"].tolist() == ref["beat_track"]["beat_frames"]
    assert beats["tempo_bpm"] == pytest.approx(ref["beat_track"]["tempo"], abs=1e-3)


def test_kinematic_beats_and_bas_match_bailando(golden):
    ref = clip_json(golden)["bas"]
    joints = motion(golden)
    kb = momu.features.kinematic_beats(joints, 25)
    assert kb["num_frames"] == ref["T60"] and kb["fps"] == 60
    assert kb["beat_frames"].tolist() == ref["motion_beats"]
    np.testing.assert_allclose(kb["velocity"][:200], ref["velocity_first200"], rtol=1e-4, atol=1e-5)
    music, sr = momu.load_audio(golden / f"{CLIP}_30720.wav")
    r = momu.eval.bas(joints, 25, music, sr)
    assert r["bas"] == pytest.approx(ref["BAS"], abs=1e-4)
    assert r["t60"] == ref["T60"] and r["music_beats"].tolist() == ref["music_beats"]


def test_beat_scores_match_the_golden_pairs(golden):
    pairs = json.loads((golden / "pairs.json").read_text())["groups"][0]["mismatched"]["pairs"]
    p = pairs[0]
    gen, sr = momu.load_audio(golden / f"{p['gen']}_22050.wav")
    gt, _ = momu.load_audio(golden / f"{p['gt']}_22050.wav")
    for variant in ("loris", "d2m"):
        s = momu.eval.beat_scores(gen, gt, sr, variant=variant)
        ref = p[variant]
        assert (s["n_bins"], s["gen_beats"], s["gt_beats"], s["hits"]) == (
            ref["n_bins"], ref["gen_beats"], ref["gt_beats"], ref["hits"])
        assert s["bcs"] == pytest.approx(ref["BCS"], abs=1e-5)
        assert s["bhs"] == pytest.approx(ref["BHS"], abs=1e-5)


def run_json(binary, *args):
    out = subprocess.run([binary, *args, "--json"], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_blc_equals_the_cli(golden, momu_binary):
    npy, wav = golden / f"{CLIP}_motion.npy", golden / f"{CLIP}_22050.wav"
    cli = run_json(momu_binary, "eval", "alignment", "--motion", str(npy), "--music", str(wav))
    music, sr = momu.load_audio(wav)
    r = momu.eval.blc(motion(golden), 25, music, sr)
    for key in ("blc", "bpc", "beat_lag_s", "tempo_bpm"):
        assert r[key] == pytest.approx(cli[key], rel=1e-9, abs=1e-12), key
    assert r["root_vertical"]["blc"] == pytest.approx(cli["root_vertical"]["blc"], rel=1e-9)
    assert 0.0 <= r["blc"] <= 1.0


def test_fid_k_equals_the_cli(golden, momu_binary, tmp_path):
    gen_clips, ref_clips = ["DANCE_C_2", "DANCE_C_4", "DANCE_C_6"], ["DANCE_R_2", "DANCE_R_3", "DANCE_R_4"]
    for folder, clips in (("gen", gen_clips), ("ref", ref_clips)):
        (tmp_path / folder).mkdir()
        for c in clips:  # links, not copies, of the golden motions
            (tmp_path / folder / f"{c}.npy").symlink_to(golden / f"{c}_motion.npy")
    cli = run_json(momu_binary, "eval", "fid", "--generated", str(tmp_path / "gen"),
                   "--reference", str(tmp_path / "ref"))
    gen = [motion(golden, c) for c in gen_clips]
    ref = [motion(golden, c) for c in ref_clips]
    r = momu.eval.fid_k(gen, ref, fps=25)
    assert r["fid_k"] == pytest.approx(cli["fid_k"], rel=1e-9)
    assert r["div_k"] == pytest.approx(cli["div_k"], rel=1e-9)
    assert (r["n_generated"], r["n_reference"], r["dim"]) == (3, 3, 69)
    # Precomputed kinetic features give the same.
    feats = lambda ms: np.stack([momu.features.kinetic_features(m, 25) for m in ms])
    assert momu.eval.fid_k(feats(gen), feats(ref))["fid_k"] == pytest.approx(r["fid_k"], rel=1e-12)


def test_metrics_check_their_inputs(song, dance):
    audio, sr = song
    with pytest.raises(momu.ShapeError, match=r"joints: expected \[T, J, D\]"):
        momu.eval.bas(dance[0], 30, audio, sr)
    with pytest.raises(momu.ConfigError, match="unknown onset variant 'madmom'"):
        momu.features.onsets(audio, sr, variant="madmom")
    with pytest.raises(momu.ConfigError, match="each set needs at least 2 samples"):
        momu.eval.fid_k([dance], [dance, dance], fps=30)
    with pytest.raises(TypeError, match="generated: expected a list of motions"):
        momu.eval.fid_k("gen", [dance, dance])
    r = momu.eval.blc(dance, 30, audio, sr)
    assert set(r) >= {"blc", "bpc", "beat_lag_s", "tempo_bpm", "root_vertical"}

"""momu.load_audio / save_audio / load_motion / save_motion and momu.Skeleton."""
import numpy as np
import pytest

import momu


def test_audio_round_trip_through_a_pcm16_wav(tmp_path, song):
    audio, sr = song
    path = tmp_path / "clicks.wav"
    momu.save_audio(path, audio, sr)
    back, back_sr = momu.load_audio(str(path))
    assert back_sr == sr and back.dtype == np.float32 and back.shape == audio.shape
    assert np.abs(back - audio).max() <= 2.0 / 32768
    # Resampled on reading, and a window of it.
    half, r = momu.load_audio(path, 11025, offset=1.0, duration=1.0)
    assert r == 11025 and len(half) == 11025


def test_audio_errors_carry_the_library_message_and_the_path(tmp_path):
    missing = tmp_path / "missing.wav"
    with pytest.raises(momu.IoError, match="missing.wav") as e:
        momu.load_audio(missing)
    assert isinstance(e.value, OSError)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF this is not a wave file at all")
    with pytest.raises(momu.Error, match="junk.wav"):
        momu.load_audio(junk)


@pytest.mark.parametrize("ext", [".json", ".npy"])
def test_motion_round_trip_is_exact_in_json_and_npy(tmp_path, dance, ext):
    path = tmp_path / ("dance" + ext)
    momu.save_motion(path, dance, 30)
    joints, fps, skeleton = momu.load_motion(path, fps=30 if ext == ".npy" else None)
    assert fps == 30 and skeleton.name == "dwm23" and joints.dtype == np.float32
    np.testing.assert_allclose(joints, dance, atol=1e-3 if ext == ".json" else 0)
    if ext == ".npy":  # plain numpy can read it
        np.testing.assert_array_equal(np.load(path), dance)


def test_motion_round_trip_through_bvh_keeps_the_dance(tmp_path, dance):
    path = tmp_path / "dance.bvh"
    momu.save_motion(path, dance, 30, skeleton="dwm23")
    joints, fps, skeleton = momu.load_motion(path)
    assert fps == 30 and skeleton.name == "bvh" and skeleton.num_joints > 23
    picked, _, dwm = momu.load_motion(path, skeleton="dwm23")  # the dwm23 joints, by name
    assert dwm.name == "dwm23" and picked.shape == dance.shape
    # Joints move only where a bone's length differs from the clip's rest pose (a few cm).
    error_cm = np.linalg.norm(picked - dance, axis=-1)
    assert np.median(error_cm) < 5.0 and error_cm.max() < 30.0


def test_motion_errors(tmp_path, dance):
    with pytest.raises(momu.IoError, match="nowhere.json: no such motion file"):
        momu.load_motion(tmp_path / "nowhere.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "momu-motion", "fps": ')
    with pytest.raises(momu.FormatError, match="bad.json: not valid JSON"):
        momu.load_motion(bad)
    with pytest.raises(momu.ConfigError):
        momu.save_motion(tmp_path / "dance.txt", dance, 30)
    with pytest.raises(momu.ShapeError, match=r"needs skeleton="):
        momu.save_motion(tmp_path / "flat.npy", dance.reshape(len(dance), -1), 30)
    # [T, J*D] with a named skeleton is accepted.
    momu.save_motion(tmp_path / "flat.npy", dance.reshape(len(dance), -1), 30, skeleton="dwm23")


def test_skeletons():
    dwm = momu.Skeleton.by_name("dwm23")
    assert dwm.num_joints == 23 and dwm.dim == 3 and dwm.units == "cm" and dwm.up_axis == 1
    assert len(dwm.parents) == dwm.num_points and dwm.parents.count(-1) == 1
    assert dwm == momu.Skeleton.by_name("dwm23") and "dwm23" in repr(dwm)
    assert momu.Skeleton.by_name("coco17").dim == 2
    assert "smpl24" in momu.skeleton_names()
    with pytest.raises(momu.ConfigError, match="dwm23"):  # the message lists the known names
        momu.Skeleton.by_name("robot")

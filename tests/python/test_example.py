"""python/examples/music_to_dance.py runs end to end (on a short click track, few steps)."""
import json
import os
import pathlib
import subprocess
import sys

import momu

from conftest import REPO, click_track


def test_music_to_dance_example_writes_its_outputs(tmp_path):
    song = tmp_path / "clicks.wav"
    momu.save_audio(song, click_track(3.0), 22050)
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(momu.__file__).parent))
    run = subprocess.run(
        [sys.executable, str(REPO / "python" / "examples" / "music_to_dance.py"), str(song),
         "--seconds", "3", "--steps", "2", "--out", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["dance"] == {"frames": 90, "fps": 30, "joints": 23}
    for name in ("song.wav", "dance.bvh", "dance.json", "dance_music.wav"):
        assert (tmp_path / "out" / name).stat().st_size > 0, name
    joints, fps, _ = momu.load_motion(tmp_path / "out" / "dance.json")
    assert joints.shape == (90, 23, 3) and fps == 30
    assert "dance: step 2/2" in run.stderr

    bad = subprocess.run(
        [sys.executable, str(REPO / "python" / "examples" / "music_to_dance.py"),
         str(tmp_path / "none.ogg"), "--out", str(tmp_path / "out2")],
        env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "none.ogg" in bad.stderr

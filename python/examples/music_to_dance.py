#!/usr/bin/python3
"""A dance for a song, music back from that dance, and how well the dance keeps the song's beat.

    PYTHONPATH=build/python /usr/bin/python3 python/examples/music_to_dance.py \
        [SONG] [--seconds 20] [--steps N] [--seed 0] [--out out/py] [--model DIR]

SONG: any WAV, FLAC, OGG or MP3 (default: the free titanion track scripts/setup.sh installs).
Writes into --out: song.wav (the part of the song used), dance.bvh and dance.json (23 joints,
30 fps), dance_music.wav (music generated for the dance), and prints the beat metrics as JSON.
"""
import argparse
import json
import pathlib
import sys
import time

import momu

DEFAULT_SONG = "/usr/share/games/titanion/sounds/musics/ttn1.ogg"


def progress_printer(label):
    start = time.monotonic()

    tty = sys.stderr.isatty()

    def show(step, total):
        line = f"{label}: step {step}/{total} ({time.monotonic() - start:.1f} s)"
        if tty:  # one line, redrawn
            print("\r" + line, end="\n" if step == total else "", file=sys.stderr, flush=True)
        elif step == total or step % max(1, total // 5) == 0:  # logs: a few lines
            print(line, file=sys.stderr, flush=True)

    return show


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("song", nargs="?", default=DEFAULT_SONG)
    p.add_argument("--seconds", type=float, default=20.0, help="length of song to use (default 20)")
    p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the model's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out/py", help="output folder (default out/py)")
    p.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    a = p.parse_args()

    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    model = momu.Model.load(a.model)
    try:
        audio, sr = momu.load_audio(a.song, duration=a.seconds)
    except momu.Error as e:  # IoError (missing file), FormatError (not audio): the library's message
        sys.exit(f"music_to_dance: {e}")
    print(f"{a.song}: {len(audio) / sr:.1f} s at {sr} Hz; model {model.path}", file=sys.stderr)
    sampler = {"seed": a.seed}
    if a.steps is not None:
        sampler["steps"] = a.steps

    fps = 30
    joints = model.music_to_motion(audio, sr, fps=fps, progress=progress_printer("dance"), **sampler)
    momu.save_audio(out / "song.wav", audio, sr)
    momu.save_motion(out / "dance.bvh", joints, fps)
    momu.save_motion(out / "dance.json", joints, fps)

    music, music_sr = model.motion_to_music(joints, fps, progress=progress_printer("music"), **sampler)
    momu.save_audio(out / "dance_music.wav", music, music_sr)

    blc = momu.eval.blc(joints, fps, audio, sr)
    report = {
        "song": a.song,
        "seconds": len(audio) / sr,
        "dance": {"frames": joints.shape[0], "fps": fps, "joints": joints.shape[1]},
        "song_tempo_bpm": momu.features.beats(audio, sr)["tempo_bpm"],
        "bas": momu.eval.bas(joints, fps, audio, sr)["bas"],
        "blc": blc["blc"],
        "beat_lag_s": blc["beat_lag_s"],
        "outputs": sorted(str(f) for f in out.iterdir()),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Shared fixtures of the Python module tests (README, "Python").

Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest -q tests/python
(ctest runs them as Python.pytest). The model is loaded once per session; inputs are a few
seconds long and the sampler takes few steps, so the whole run stays short on a 2-core CPU.
Tests on the golden references of ../shared/golden skip when that folder is absent.
"""
import os
import pathlib
import shutil

import numpy as np
import pytest

import momu

REPO = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = pathlib.Path(os.environ.get("MOMU_SHARED_DIR", REPO.parent / "shared")) / "golden"


def click_track(seconds=3.0, bpm=120.0, sample_rate=22050):
    """A steady click at bpm (short decaying noise bursts on every beat): float32 [N]."""
    rng = np.random.default_rng(0)
    n = int(round(seconds * sample_rate))
    y = np.zeros(n, dtype=np.float32)
    burst = int(0.05 * sample_rate)
    env = np.exp(-np.arange(burst) / (0.01 * sample_rate)).astype(np.float32)
    for t in np.arange(0.0, seconds, 60.0 / bpm):
        i = int(t * sample_rate)
        m = min(burst, n - i)
        y[i:i + m] += 0.5 * env[:m] * rng.standard_normal(m).astype(np.float32)
    return np.clip(y, -0.9, 0.9)


@pytest.fixture(scope="session")
def model():
    return momu.Model.load()


@pytest.fixture(scope="session")
def song():
    """(audio, sample_rate): 3 s of clicks at 120 BPM."""
    return click_track(3.0), 22050


@pytest.fixture(scope="session")
def dance(model, song):
    """A dance generated for `song` (30 fps), shared by the tests that need a motion."""
    audio, sr = song
    return model.music_to_motion(audio, sr, fps=30, steps=4, seed=3)


@pytest.fixture(scope="session")
def golden():
    if not (GOLDEN / "pairs.json").exists():
        pytest.skip(f"golden references not found at {GOLDEN} (../shared/golden)")
    return GOLDEN


@pytest.fixture(scope="session")
def momu_binary():
    """The momu program (for comparing with `momu eval ... --json`)."""
    path = os.environ.get("MOMU_BINARY") or str(REPO / "build" / "momu")
    if not os.access(path, os.X_OK):
        path = shutil.which("momu")
    if not path:
        pytest.skip("the momu program was not found (build/momu or $MOMU_BINARY)")
    return path

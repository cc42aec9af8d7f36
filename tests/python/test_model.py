"""momu.Model: the three tasks, sampler options, progress, determinism, the GIL, errors."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import momu


def test_music_to_motion_gives_float32_frames_of_the_audio_duration(model, song, dance):
    audio, sr = song
    assert dance.dtype == np.float32
    assert dance.shape == (round(len(audio) / sr * 30), 23, 3)
    assert np.isfinite(dance).all()
    assert dance.std() > 1.0  # a body in cm that moves, not zeros
    # Any rate and float64 are accepted; another fps gives the matching frame count.
    joints = model.music_to_motion(audio.astype(np.float64), sr, fps=25, steps=2, seed=3)
    assert joints.shape == (75, 23, 3)


def test_a_seed_gives_the_same_dance_and_another_seed_another(model, song, dance):
    audio, sr = song
    again = model.music_to_motion(audio, sr, fps=30, steps=4, seed=3)
    np.testing.assert_array_equal(again, dance)
    other = model.music_to_motion(audio, sr, fps=30, steps=4, seed=4)
    assert np.abs(other - dance).max() > 1e-3


def test_progress_is_called_once_per_sampler_step(model, song):
    audio, sr = song
    calls = []
    model.music_to_motion(audio, sr, steps=5, sampler="ddim", seed=0, guidance_interval=(0.1, 0.9),
                          progress=lambda step, total: calls.append((step, total)))
    assert calls == [(i, 5) for i in range(1, 6)]


def test_an_exception_in_progress_stops_the_task_and_reaches_the_caller(model, song):
    audio, sr = song

    class Stop(Exception):
        pass

    def stop(step, total):
        if step == 2:
            raise Stop("stopped at step 2")

    with pytest.raises(Stop, match="stopped at step 2"):
        model.music_to_motion(audio, sr, steps=5, progress=stop)
    # The model is still usable afterwards.
    assert model.music_to_motion(audio, sr, steps=1).shape[1:] == (23, 3)


def test_motion_to_music_gives_audio_of_the_motion_duration(model, dance):
    calls = []
    audio, sr = model.motion_to_music(dance, 30, steps=3, seed=1, griffin_lim_iterations=4,
                                      progress=lambda s, t: calls.append(s))
    assert sr == model.sample_rate
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == round(dance.shape[0] / 30 * sr)
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0
    assert calls == [1, 2, 3]
    # The skeleton may be given as a name, a momu.Skeleton, or guessed (None).
    a2, _ = model.motion_to_music(dance, 30, skeleton=momu.Skeleton.by_name("dwm23"), steps=3,
                                  seed=1, griffin_lim_iterations=4)
    np.testing.assert_array_equal(a2, audio)


def test_joint_gives_dance_and_music_of_the_asked_length(model):
    joints, audio, sr = model.joint(2.0, bpm=120, steps=3, seed=2, griffin_lim_iterations=4)
    assert joints.shape == (60, 23, 3) and joints.dtype == np.float32
    assert sr == model.sample_rate and len(audio) == 2 * sr and audio.dtype == np.float32


def test_default_sampler_is_the_models_per_task_setting(model):
    joint = model.default_sampler("joint")
    assert joint["sampler"] == "dpmpp2m" and joint["steps"] == 25  # models/default/sampling.json
    assert set(model.default_sampler("music2motion")) >= {"seed", "steps", "eta", "guidance"}
    assert model.default_sampler("music2motion")["guidance_interval"] == (0.07, 0.81)  # version 4
    with pytest.raises(momu.ConfigError, match="unknown task 'dance'"):
        model.default_sampler("dance")


def test_bad_sampler_options_are_rejected_with_the_option_named(model, song):
    audio, sr = song
    with pytest.raises(momu.ConfigError, match=r"steps must be in \[1, 10000\], got 0"):
        model.music_to_motion(audio, sr, steps=0)
    with pytest.raises(ValueError, match="sampler must be"):  # the library's message
        model.music_to_motion(audio, sr, sampler="euler")
    with pytest.raises(momu.ConfigError, match="exceeds the model's"):
        model.music_to_motion(audio, sr, steps=model.schedule_timesteps + 1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'step'"):
        model.music_to_motion(audio, sr, step=5)
    with pytest.raises(TypeError, match="steps must be an int"):
        model.music_to_motion(audio, sr, steps=2.5)
    with pytest.raises(TypeError, match="progress must be a callable"):
        model.music_to_motion(audio, sr, progress=3)
    with pytest.raises(TypeError, match=r"guidance_interval must be a \(from, to\) pair"):
        model.music_to_motion(audio, sr, guidance_interval=0.5)
    with pytest.raises(momu.ConfigError, match="guidance_interval must be"):
        model.music_to_motion(audio, sr, guidance_interval=(0.8, 0.2))
    with pytest.raises(momu.ConfigError, match="bpm must be a number in"):
        model.joint(2.0, bpm=1000)
    with pytest.raises(momu.ConfigError, match="beat_lock is for"):
        model.joint(2.0, beat_lock=True)
    with pytest.raises(momu.ConfigError, match="fps must be a number in"):
        model.music_to_motion(audio, sr, fps=0)


def test_bad_arrays_are_rejected_naming_the_argument_and_the_expected_shape(model, song, dance):
    audio, sr = song
    with pytest.raises(momu.ShapeError, match=r"audio: expected \[N\] mono samples \(1-D\), got shape \(2, 66150\)"):
        model.music_to_motion(np.stack([audio, audio]), sr)
    bad = audio.copy()
    bad[10] = np.nan
    with pytest.raises(momu.FormatError, match="audio: 1 of 66150 values are NaN or infinite"):
        model.music_to_motion(bad, sr)
    with pytest.raises(TypeError, match="audio: expected a float array.*int16.*32768"):
        model.music_to_motion((audio * 32767).astype(np.int16), sr)
    with pytest.raises(TypeError, match="got dtype <U"):
        model.music_to_motion(np.array(["a", "b"]), sr)
    with pytest.raises(momu.ShapeError, match=r"joints: expected \[T, 23, 3\] for skeleton 'dwm23', got shape \(90, 17, 3\)"):
        model.motion_to_music(dance[:, :17], 30)
    with pytest.raises(ValueError):  # every momu.ShapeError is a ValueError
        model.motion_to_music(dance[0], 30)
    with pytest.raises(momu.ConfigError, match="sample_rate must be in"):
        model.music_to_motion(audio, 0)


def test_errors_form_a_hierarchy_with_the_library_messages():
    assert issubclass(momu.IoError, momu.Error) and issubclass(momu.IoError, OSError)
    for e in (momu.FormatError, momu.ConfigError, momu.ShapeError):
        assert issubclass(e, momu.Error) and issubclass(e, ValueError)
    with pytest.raises(momu.IoError, match="/no/such/model: no such model folder"):
        momu.Model.load("/no/such/model")
    with pytest.raises(OSError):
        momu.Model.load("/no/such/model")


def test_the_gil_is_released_while_the_model_computes(model, song):
    audio, sr = song
    done = []
    worker = threading.Thread(target=lambda: done.append(model.music_to_motion(audio, sr, steps=4)))
    worker.start()
    ticks = 0
    while worker.is_alive():  # runs only when the worker does not hold the GIL
        ticks += 1
        time.sleep(0.001)
    worker.join()
    assert done and done[0].shape[1:] == (23, 3)
    assert ticks > 20


def test_the_model_describes_itself(model):
    assert model.skeleton.name == "dwm23" and model.skeleton.num_joints == 23
    assert model.sample_rate > 0 and model.device == "cpu"
    assert model.path.endswith("models/default")
    assert "momu.Model(" in repr(model)


def test_ctrl_c_stops_a_task_at_its_next_step(model, song):
    audio, sr = song
    signal.signal(signal.SIGINT, signal.default_int_handler)
    steps, total = [], min(500, model.schedule_timesteps)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        model.music_to_motion(audio, sr, steps=total, sampler="ddim",
                              progress=lambda s, t: steps.append(s))
    timer.join()
    assert len(steps) < total  # stopped early


def test_motion_to_music_takes_any_3d_skeleton_as_load_motion_gives_it(model):
    bvh = "/usr/share/assimp/models/BVH/01_01.bvh"  # a CMU capture (assimp-testmodels)
    if not os.path.exists(bvh):
        pytest.skip(f"{bvh} not found (Debian package assimp-testmodels, scripts/setup.sh)")
    joints, fps, skeleton = momu.load_motion(bvh)
    assert skeleton.name == "bvh" and joints.shape[1:] == (38, 3) and fps == 120
    clip = joints[: int(3 * fps)]
    audio, sr = model.motion_to_music(clip, fps, skeleton=skeleton, steps=2,
                                      griffin_lim_iterations=2)
    assert len(audio) == 3 * sr
    with pytest.raises(momu.ShapeError, match="for skeleton 'dwm23'"):  # the default skeleton
        model.motion_to_music(clip, fps, steps=2)

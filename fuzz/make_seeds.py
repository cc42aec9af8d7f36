#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (scripts/fuzz.sh), from real files cut small.

usage: make_seeds.py OUT_DIR SHARED_DIR

Reads the repository's configs/ and models/default/, SHARED_DIR/data/dance-with-melody and
SHARED_DIR/golden (read-only), /usr/share/assimp/models/BVH when installed, and writes
OUT_DIR/<target>/<seed>. Nothing is written into the repository. Audio seeds need ffmpeg.
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT, SHARED = sys.argv[1], sys.argv[2]
DWM = os.path.join(SHARED, "data", "dance-with-melody")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def dwm_folders(n):
    return sorted(glob.glob(os.path.join(DWM, "DANCE_*")))[:n]


def dwm_frames(folder, frames):
    with open(os.path.join(folder, "skeletons.json")) as f:
        j = json.load(f)
    return {"length": frames, "center": j["center"][:frames], "skeletons": j["skeletons"][:frames]}


# --- BVH: the hierarchy and the first frames of real files; small hand-written ones.
def bvh_head(text, frames):
    out, in_motion, kept = [], False, 0
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("Frames:"):
            out.append("Frames: %d" % frames)
            in_motion = True
            continue
        if in_motion and s and not s.startswith("Frame Time"):
            if kept == frames:
                break
            kept += 1
        out.append(line)
    return "\n".join(out) + "\n"


for path in sorted(glob.glob("/usr/share/assimp/models/BVH/*.bvh")):
    with open(path, errors="replace") as f:
        text = f.read()
    for frames in (1, 3):
        put("bvh", "%s_%d.bvh" % (os.path.basename(path)[:-4], frames), bvh_head(text, frames))
put("bvh", "tiny.bvh", """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 5 0
    }
  }
  JOINT LeftFoot
  {
    OFFSET 3 -10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 0 2
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 90 0 0 0 0 10 0 0 0 0 5
1 90 0 0 0 0 20 0 0 0 5 0
""")

# --- NPY: the golden motions cut to a few frames; small arrays of every dtype.
def npy(descr, shape, payload, version=1):
    shape_s = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_s)
    pre = 10 if version == 1 else 12
    header += " " * ((64 - (pre + len(header) + 1) % 64) % 64) + "\n"
    lenfield = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + lenfield + header.encode("latin1") + payload


for path in sorted(glob.glob(os.path.join(SHARED, "golden", "*_motion.npy")))[:2]:
    with open(path, "rb") as f:
        raw = f.read()
    hlen = struct.unpack("<H", raw[8:10])[0]
    data = raw[10 + hlen:]
    frame = 23 * 3 * 4
    put("npy", os.path.basename(path)[:-4] + "_3.npy", npy("<f4", (3, 23, 3), data[:3 * frame]))
    put("npy", os.path.basename(path)[:-4] + "_flat.npy", npy("<f4", (2, 69), data[:2 * frame]))
    put("npy", os.path.basename(path)[:-4] + "_v2.npy", npy("<f4", (1, 23, 3), data[:frame], 2))
put("npy", "pose2d.npy", npy("<f8", (1, 17, 3), struct.pack("<51d", *[0.5] * 51)))
put("npy", "i8.npy", npy("<i8", (2, 2, 2), struct.pack("<8q", *range(8))))
put("npy", "be_f4.npy", npy(">f4", (1, 2, 3), struct.pack(">6f", *range(6))))
put("npy", "u1.npy", npy("|u1", (4,), bytes(range(4))))
put("npy", "b1.npy", npy("|b1", (2,), b"\x00\x01"))
put("npy", "scalar.npy", npy("<i4", (), struct.pack("<i", 7)))

# --- JSON motions (load_motion .json): momu-motion with a named skeleton and a full one, and
# Dance with Melody skeletons.json cut to a few frames.
with open(os.path.join(ROOT, "models", "default", "vae", "config.json")) as f:
    vae_config = json.load(f)
skeleton = vae_config["model"]["skeleton"]
for i, folder in enumerate(dwm_folders(2)):
    j = dwm_frames(folder, 2)
    put("motion_json", "dwm_%d.json" % i, json.dumps(j))
    joints = [[[p[d] + c[d] for d in range(3)] for p in fr] for fr, c in zip(j["skeletons"], j["center"])]
    put("motion_json", "momu_named_%d.json" % i, json.dumps(
        {"format": "momu-motion", "version": 1, "fps": 25.0, "skeleton": "dwm23", "joints": joints}))
    if i == 0:
        put("motion_json", "momu_full.json", json.dumps(
            {"format": "momu-motion", "version": 1, "fps": 30, "skeleton": skeleton,
             "joints": joints, "confidence": [[1.0] * 23] * 2, "meta": {"source": "seed"}}))

# --- Dance with Melody folders: skeletons.json NUL config.json.
for i, folder in enumerate(dwm_folders(3)):
    with open(os.path.join(folder, "config.json")) as f:
        config = f.read()
    put("dance_with_melody", "dwm_%d" % i,
        json.dumps(dwm_frames(folder, 1 + i)).encode() + b"\0" + config.encode())

# --- safetensors: a few small tensors of the shipped weights, re-packed; every dtype.
def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + blob


for path in sorted(glob.glob(os.path.join(ROOT, "models", "default", "*", "model.safetensors"))):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        small = {}
        for name, t in sorted(header.items()):
            if name == "__metadata__":
                continue
            a, b = t["data_offsets"]
            if b - a <= 256 and len(small) < 4:
                f.seek(base + a)
                small[name] = (t["dtype"], t["shape"], f.read(b - a))
    put("safetensors", os.path.basename(os.path.dirname(path)) + ".safetensors",
        safetensors(small, header.get("__metadata__")))
put("safetensors", "dtypes.safetensors", safetensors({
    "f64": ("F64", [2], struct.pack("<2d", 1, 2)), "f32": ("F32", [2, 1], struct.pack("<2f", 1, 2)),
    "f16": ("F16", [1], b"\x00\x3c"), "bf16": ("BF16", [1], b"\x80\x3f"),
    "i64": ("I64", [1], struct.pack("<q", 3)), "i32": ("I32", [1], struct.pack("<i", 3)),
    "i16": ("I16", [1], struct.pack("<h", 3)), "i8": ("I8", [1], b"\x03"),
    "u8": ("U8", [1], b"\x03"), "b": ("BOOL", [1], b"\x01"), "empty": ("F32", [0, 3], b"")},
    {"format": "pt"}))

# --- latent files (momu encode): 'latent' [d, L] float32, metadata modality and frames.
put("latent", "music.latent.safetensors", safetensors(
    {"latent": ("F32", [4, 3], struct.pack("<12f", *[0.1 * i for i in range(12)]))},
    {"modality": "music", "frames": "12"}))
put("latent", "motion.latent.safetensors", safetensors(
    {"latent": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
     "start_root": ("F32", [3], struct.pack("<3f", 0, 1, 0))},
    {"modality": "motion", "frames": "8"}))

# --- configs (fuzz_config: first byte = reader, see fuzz_config.cpp).
def config_seed(selector, name, obj):
    put("config", name, bytes([selector]) + json.dumps(obj, indent=1).encode())


for path in sorted(glob.glob(os.path.join(ROOT, "configs", "*.json"))):
    with open(path) as f:
        j = json.load(f)
    config_seed(0 if os.path.basename(path).startswith("vae") else 1, os.path.basename(path), j)
model = vae_config["model"]
config_seed(2, "vae_music.json", model["music_vae"])
config_seed(7, "contrastive.json", model["contrastive"])
config_seed(8, "logmel.json", model["logmel"])
config_seed(9, "skeleton.json", model["skeleton"])
config_seed(10, "motion_stats.json", model["motion_stats"])
config_seed(6, "train.json", vae_config.get("train", {}))
with open(os.path.join(ROOT, "models", "default", "music2motion", "config.json")) as f:
    expert = json.load(f)
for key, sel in (("denoiser", 3), ("schedule", 4), ("sampler", 5)):
    if key in expert.get("model", {}):
        config_seed(sel, key + ".json", expert["model"][key])

# --- model folders (fuzz_model_config: first byte even = BiCoR-VAE, odd = expert).
for part, sel in (("vae", 0), ("motion2music", 1), ("music2motion", 1)):
    with open(os.path.join(ROOT, "models", "default", part, "config.json"), "rb") as f:
        put("model_config", part + ".json", bytes([sel]) + f.read())

# --- audio (fuzz_audio: first byte = extension and resampling, see fuzz_audio.cpp): 0.2 s of
# a Dance with Melody song in every format.
if shutil.which("ffmpeg"):
    songs = [os.path.join(f, "audio.mp3") for f in dwm_folders(1)]
    formats = ((".wav", 0, ["-c:a", "pcm_s16le"]), (".flac", 2, ["-c:a", "flac"]),
               (".ogg", 4, ["-c:a", "libvorbis"]), (".mp3", 6, ["-c:a", "libmp3lame"]))
    tmp = os.path.join(OUT, "tmp_audio")
    os.makedirs(tmp, exist_ok=True)
    for song in songs:
        for ext, sel, codec in formats:
            for channels, rate in ((1, 8000), (2, 22050)):
                out = os.path.join(tmp, "a%d_%d%s" % (channels, rate, ext))
                r = subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "10", "-t", "0.2", "-i", song,
                                    "-ac", str(channels), "-ar", str(rate)] + codec + [out])
                if r.returncode == 0:
                    with open(out, "rb") as f:
                        put("audio", os.path.basename(out), bytes([sel | (rate == 22050 and 0 or 1)]) + f.read())
    shutil.rmtree(tmp)
else:
    print("make_seeds.py: no ffmpeg, the audio corpus starts empty", file=sys.stderr)

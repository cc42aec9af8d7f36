#!/usr/bin/python3
"""The Python half of the PyTorch anchor: momu's denoiser written again in plain PyTorch.

It loads a diffusion expert's weights (model.safetensors, read here without the safetensors
package) into a torch.nn.Module that mirrors src/model/denoiser.cpp, checks that it gives the same
outputs as the C++ path on the inputs that build/bench_torch_parity wrote (--io), and times the
same work with the same threads: one denoiser call on a sampler window batch and one training step
(forward, MSE on the noise, backward, AdamW). With --cpp (the C++ half's JSON line) it prints one
JSON line with both sides and the C++ speed-up. bench/compare_torch.sh runs both halves.

Needs Debian's python3-torch (scripts/setup.sh installs it).
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "F64": torch.float64, "I64": torch.int64,
          "I32": torch.int32, "BF16": torch.bfloat16, "U8": torch.uint8, "BOOL": torch.bool}


def load_safetensors(path):
    """{name: tensor} of a safetensors file (8-byte header length, JSON header, raw bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than its header length)")
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = bytearray(data[base + start:base + end])
        t = torch.frombuffer(buf, dtype=DTYPES[info["dtype"]]) if buf else torch.empty(0)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def rotary(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


def timestep_embedding(t, dim):
    """Sinusoidal embedding of t [B] -> [B, dim], as src/model/denoiser.cpp."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.to(torch.float32).unsqueeze(1) * freqs.unsqueeze(0)
    return torch.cat([torch.cos(args), torch.sin(args)], 1)


def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class Block(torch.nn.Module):
    def __init__(self, hidden, heads, mlp):
        super().__init__()
        self.heads = heads
        self.qkv = torch.nn.Linear(hidden, 3 * hidden)
        self.proj = torch.nn.Linear(hidden, hidden)
        self.fc1 = torch.nn.Linear(hidden, mlp)
        self.fc2 = torch.nn.Linear(mlp, hidden)
        self.modulation = torch.nn.Linear(hidden, 6 * hidden)

    def forward(self, x, c, cos, sin):
        mod = self.modulation(c).chunk(6, 1)
        b, l, h = x.shape
        hd = h // self.heads
        y = modulate(F.layer_norm(x, (h,), eps=1e-6), mod[0], mod[1])
        qkv = self.qkv(y).view(b, l, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k = rotary(qkv[0], cos, sin), rotary(qkv[1], cos, sin)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hd), -1)
        o = (att @ qkv[2]).permute(0, 2, 1, 3).reshape(b, l, h)
        out = x + mod[2].unsqueeze(1) * self.proj(o)
        y = modulate(F.layer_norm(out, (h,), eps=1e-6), mod[3], mod[4])
        return out + mod[5].unsqueeze(1) * self.fc2(F.gelu(self.fc1(y)))


class Denoiser(torch.nn.Module):
    """src/model/denoiser.cpp: z [B, d, L], t [B], cond [B, dc, L], keep [B] -> eps [B, d, L]."""

    def __init__(self, cfg):
        super().__init__()
        h, d, dc = cfg["hidden"], cfg["latent_channels"], cfg["cond_channels"]
        self.cfg = cfg
        self.in_proj = torch.nn.Conv1d(d + dc + 1, h, cfg["in_kernel"], padding=cfg["in_kernel"] // 2)
        self.time_fc1 = torch.nn.Linear(h, h)
        self.time_fc2 = torch.nn.Linear(h, h)
        self.null_embedding = torch.nn.Parameter(torch.zeros(h))
        if cfg.get("guidance_embedding", False):  # a guidance-distilled expert
            self.guidance_fc1 = torch.nn.Linear(h, h)
            self.guidance_fc2 = torch.nn.Linear(h, h)
        mlp = max(1, round(cfg["mlp_ratio"] * h))
        self.blocks = torch.nn.ModuleList(Block(h, cfg["heads"], mlp) for _ in range(cfg["depth"]))
        self.final_modulation = torch.nn.Linear(h, 2 * h)
        self.out_proj = torch.nn.Linear(h, d)

    def forward(self, z, t, cond, keep):
        b, _, l = z.shape
        h = self.cfg["hidden"]
        k = keep.to(z.dtype).reshape(b)
        c = cond * k.view(b, 1, 1)
        x = self.in_proj(torch.cat([z, c, k.view(b, 1, 1).expand(b, 1, l)], 1)).permute(0, 2, 1)
        emb = self.time_fc2(F.silu(self.time_fc1(timestep_embedding(t, h))))
        emb = emb + (1 - k).unsqueeze(1) * self.null_embedding.unsqueeze(0)
        if self.cfg.get("guidance_embedding", False):  # the scales (s, s_b); (1, 1) here
            sc = torch.ones(b, 2) * 100.0
            g = torch.cat([timestep_embedding(sc[:, 0], h // 2), timestep_embedding(sc[:, 1], h - h // 2)], 1)
            emb = emb + self.guidance_fc2(F.silu(self.guidance_fc1(g)))
        act = F.silu(emb)
        hd = h // self.cfg["heads"]
        inv = torch.exp(-math.log(self.cfg.get("rope_base", 10000.0)) *
                        torch.arange(hd // 2, dtype=torch.float32) * 2.0 / hd)
        ang = torch.arange(l, dtype=torch.float32).unsqueeze(1) * inv.unsqueeze(0)
        cos, sin = ang.cos(), ang.sin()
        for blk in self.blocks:
            x = blk(x, act, cos, sin)
        mod = self.final_modulation(act).chunk(2, 1)
        x = modulate(F.layer_norm(x, (h,), eps=1e-6), mod[0], mod[1])
        return self.out_proj(x).permute(0, 2, 1).contiguous()


def load_expert(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)["model"]["denoiser"]
    net = Denoiser(cfg)
    weights = {k[len("denoiser."):]: v.to(torch.float32)
               for k, v in load_safetensors(os.path.join(folder, "model.safetensors")).items()
               if k.startswith("denoiser.")}
    missing, unexpected = net.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise ValueError(f"{folder}: weights do not match the denoiser (missing {missing}, "
                         f"unexpected {unexpected})")
    return net


def flops(cfg, length):
    """denoiser_flops of src/model/denoiser.cpp (multiply-adds count 2)."""
    h, l = cfg["hidden"], float(length)
    m = max(1, round(cfg["mlp_ratio"] * h))
    inp = 2.0 * (cfg["latent_channels"] + cfg["cond_channels"] + 1) * h * cfg["in_kernel"] * l
    block = 2.0 * l * (3 * h * h + h * h + 2 * h * m) + 2.0 * 2.0 * l * l * h
    out = 2.0 * l * h * cfg["latent_channels"]
    time_ = (2.0 * (2 * h * h) * (2 if cfg.get("guidance_embedding", False) else 1) +
             cfg["depth"] * 2.0 * h * 6 * h + 2.0 * h * 2 * h)
    return inp + cfg["depth"] * block + out + time_


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--io", required=True, help="the file build/bench_torch_parity wrote")
    ap.add_argument("--expert", help="the expert folder (default: the one the C++ half used)")
    ap.add_argument("--cpp", help="the C++ half's JSON line (a file), to print both side by side")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--train-steps", type=int, default=5)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    cpp = None
    if a.cpp:
        with open(a.cpp) as f:
            cpp = json.loads(f.read().strip().splitlines()[-1])
    expert = a.expert or (cpp or {}).get("expert")
    if not expert:
        sys.exit("torch_reference: give --expert or --cpp")
    io = load_safetensors(a.io)
    net = load_expert(expert)
    out = {"impl": "pytorch-python", "torch": torch.__version__, "threads": torch.get_num_threads()}

    z, t, cond, keep = io["infer.z"], io["infer.t"], io["infer.cond"], io["infer.keep"]
    net.eval()
    with torch.no_grad():
        eps = net(z, t, cond, keep)
        out["infer_max_abs_diff"] = (eps - io["infer.eps"]).abs().max().item()
        out["infer_max_abs"] = io["infer.eps"].abs().max().item()
        net(z, t, cond, keep)
        t0 = time.perf_counter()
        for _ in range(a.repeats):
            net(z, t, cond, keep)
        s = (time.perf_counter() - t0) / a.repeats
    out["denoiser_call_ms"] = 1e3 * s
    out["denoiser_gflops"] = flops(net.cfg, z.shape[2]) * z.shape[0] / s / 1e9

    net.train()
    zt, tt, tcond, tkeep, noise = (io["train." + k] for k in ("zt", "t", "cond", "keep", "noise"))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-4, weight_decay=0.01)

    def step():
        opt.zero_grad()
        loss = F.mse_loss(net(zt, tt, tcond, tkeep), noise)
        loss.backward()
        return loss

    loss = step().item()
    grad_norm = math.sqrt(sum(p.grad.double().pow(2).sum().item() for p in net.parameters()))
    out["loss"] = loss
    out["loss_rel_diff"] = abs(loss / io["train.loss"].item() - 1.0)
    out["grad_norm"] = grad_norm
    out["grad_norm_rel_diff"] = abs(grad_norm / io["train.grad_norm"].item() - 1.0)
    opt.step()
    t0 = time.perf_counter()
    for _ in range(a.train_steps):
        step()
        opt.step()
    out["train_step_ms"] = 1e3 * (time.perf_counter() - t0) / a.train_steps

    # Same outputs to float tolerance: float32 sums in another order differ by ~1e-6 relative.
    out["outputs_equal"] = (out["infer_max_abs_diff"] <= 1e-4 * max(1.0, out["infer_max_abs"])
                            and out["loss_rel_diff"] <= 1e-4 and out["grad_norm_rel_diff"] <= 1e-3)
    if cpp is not None:
        line = {"cpp": cpp, "python": out,
                "speedup_infer": out["denoiser_call_ms"] / cpp["denoiser_call_ms"],
                "speedup_train_step": out["train_step_ms"] / cpp["train_step_ms"],
                "outputs_equal": out["outputs_equal"]}
        print(json.dumps(line))
    else:
        print(json.dumps(out))
    return 0 if out["outputs_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""The LODI conditional VDM in PyTorch: the same 3D U-Net denoiser (src/lodi/unet.ts,
src/nets/blocks.ts), learned linear schedule (src/lodi/schedule.ts), loss and ancestral step
(src/lodi/vdm.ts) and latent-overlap sampler (src/lodi/generate.ts) as lodi, with the same
parameter names, so the weights of a lodi checkpoint load with `load_state_dict(strict=True)`:

    from lodi import load_checkpoint          # with bench/py on sys.path
    model, meta = load_checkpoint("runs/lodi/best.safetensors")   # EMA weights, eval mode
    eps_hat = model.eps_hat(z, gamma, cond)   # z [B,1,n,n,n], gamma [B], cond [B,4,n,n,n]

A lodi checkpoint is a safetensors file whose tensors are grouped by prefix (`model.*`, `ema.*`,
optimizer state, ...) and whose metadata holds the whole config as JSON under the key `lodi-vdm`;
the `safetensors` package is used when installed, else a minimal reader of the format below.

As a script it serves the comparison in bench/lodi.ts: a JSON job in the environment variable
LODI_JOB selects a mode (`check`, `generate`, `serve`) and the result is printed as one JSON line.
"""
import json, math, os, resource, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- safetensors
_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
           "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """(tensors by name, metadata dict) of a .safetensors file: an 8-byte little-endian header
    length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__: {...}}, raw data."""
    try:
        from safetensors import safe_open
        with safe_open(path, framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})
    except ImportError:
        pass
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        dt = _DTYPES[h["dtype"]]
        buf = bytearray(data[a:b])  # writable copy (frombuffer warns on read-only buffers)
        t = torch.frombuffer(buf, dtype=dt) if b > a else torch.empty(0, dtype=dt)
        out[name] = t.reshape(h["shape"]).clone()
    return out, meta


# ---------------------------------------------------------------- blocks (src/nets/blocks.ts)

class GroupNorm32(nn.GroupNorm):
    """nn.GroupNorm that promotes a lower-precision input to its weights' float32, as lodi's groupNorm does
    (CUDA autocast does it by itself; PyTorch 1.13's CPU autocast leaves group_norm out and fails on mixed
    dtypes). The same parameters and names as nn.GroupNorm; in float32 the same numbers."""

    def forward(self, x):
        return super().forward(x.to(self.weight.dtype) if x.dtype != self.weight.dtype else x)

class PeriodicConv3d(nn.Conv3d):
    """Circular padding of k//2 on every side, then an unpadded convolution."""

    def __init__(self, cin, cout, k=3, bias=True):
        super().__init__(cin, cout, k, padding=0, bias=bias)

    def forward(self, x):
        p = self.kernel_size[0] // 2
        if p > 0:
            x = F.pad(x, [p] * 6, mode="circular")
        return F.conv3d(x, self.weight, self.bias)


def sinusoidal_embedding(t, dim):
    half = dim // 2
    freqs = torch.arange(0, half, 1, dtype=torch.float32, device=t.device).mul(-math.log(10000) / (half - 1)).exp()
    arg = t.reshape(-1, 1).mul(1000).mul(freqs.reshape(1, half))
    return torch.cat([arg.sin(), arg.cos()], 1)


def _autocast_on(device_type):
    try:
        return torch.is_autocast_enabled(device_type)  # PyTorch 2.4+
    except TypeError:
        return torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()


def in_float32(x, fn):
    """fn(x) in float32 inside an autocast region (src/nets/precision.ts inFloat32): lodi keeps the time
    embedding and its projections, the first and the last convolution of the U-Net in float32."""
    t = x.device.type
    if not _autocast_on(t):
        return fn(x)
    with torch.autocast(device_type=t, enabled=False):
        return fn(x.float())


class TimeEmbedding(nn.Module):
    def __init__(self, dim, out_dim):
        super().__init__()
        self.dim = dim
        self.lin1, self.lin2 = nn.Linear(dim, out_dim), nn.Linear(out_dim, out_dim)

    def forward(self, t):
        return F.silu(self.lin2(F.silu(self.lin1(sinusoidal_embedding(t, self.dim)))))


class ResBlock3d(nn.Module):
    """[GroupNorm → SiLU → conv] × convs; bias-free embedding projection added after the first conv,
    dropout before the last conv, 1^3 skip conv when the width changes (names norm1, conv1, ...)."""

    def __init__(self, cin, cout, convs, norm_groups, dropout, emb_dim):
        super().__init__()
        self.cout, self.nconv, self.p = cout, convs, dropout
        for i in range(convs):
            c = cin if i == 0 else cout
            setattr(self, f"norm{i + 1}", GroupNorm32(min(norm_groups, c), c))
            setattr(self, f"conv{i + 1}", PeriodicConv3d(c, cout))
        last = getattr(self, f"conv{convs}")
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.emb = nn.Linear(emb_dim, cout, bias=False) if emb_dim > 0 else None
        if self.emb is not None:
            nn.init.zeros_(self.emb.weight)
        self.skip = None if cin == cout else nn.Conv3d(cin, cout, 1)

    def forward(self, x, emb):
        h, last = x, self.nconv - 1
        for i in range(self.nconv):
            h = F.silu(getattr(self, f"norm{i + 1}")(h))
            if i == last and i > 0 and self.p > 0 and self.training:
                h = F.dropout(h, self.p, True)
            h = getattr(self, f"conv{i + 1}")(h)
            if i == 0 and self.emb is not None and emb is not None:
                e = in_float32(emb, self.emb)
                h = h + e.reshape(e.shape[0], self.cout, 1, 1, 1)
        return h + (self.skip(x) if self.skip is not None else x)


class SelfAttention3d(nn.Module):
    def __init__(self, channels, heads, norm_groups):
        super().__init__()
        self.heads = heads
        self.norm = GroupNorm32(min(norm_groups, channels), channels)
        self.qkv = nn.Conv3d(channels, 3 * channels, 1)
        self.proj = nn.Conv3d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x):
        B, C, X, Y, Z = x.shape
        L, d = X * Y * Z, C // self.heads
        qkv = self.qkv(self.norm(x)).reshape(B, 3, self.heads, d, L)
        q, k, v = (qkv.select(1, i).reshape(B * self.heads, d, L) for i in range(3))
        att = torch.softmax(torch.bmm(q.transpose(1, 2), k).mul(1 / math.sqrt(d)).float(), -1)
        o = torch.bmm(v, att.transpose(1, 2)).reshape(B, C, X, Y, Z)
        return x + self.proj(o)


# ---------------------------------------------------------------- U-Net (src/lodi/unet.ts)
class LodiUNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        W, E = cfg["widths"], cfg["widths"][0]
        self.levels = len(W)
        rb = dict(convs=cfg["convsPerBlock"], norm_groups=cfg["normGroups"], dropout=cfg["dropout"], emb_dim=4 * E)
        self.in_conv = PeriodicConv3d(1 + cfg["condChannels"], E)
        self.temb = TimeEmbedding(E, 4 * E)
        self.enc, self.down = nn.ModuleList(), nn.ModuleList()
        c = E
        for l, w in enumerate(W):
            blocks = nn.ModuleList()
            for _ in range(cfg["blocksPerLevel"]):
                blocks.append(ResBlock3d(c, w, **rb))
                c = w
            self.enc.append(blocks)
            if l < len(W) - 1:
                self.down.append(nn.Conv3d(w, w, 2, stride=2))
        Wb = W[-1]
        self.mid1 = ResBlock3d(Wb, Wb, **rb)
        self.attn = SelfAttention3d(Wb, cfg["attentionHeads"], cfg["normGroups"])
        self.mid2 = ResBlock3d(Wb, Wb, **rb)
        # up.l leads from level l+1 to level l; dec.l.i are the decoder blocks of level l
        self.up = nn.ModuleList([nn.ConvTranspose3d(W[l + 1], W[l], 2, stride=2) for l in range(len(W) - 1)])
        dec = [None] * len(W)
        c = Wb
        for l in range(len(W) - 1, -1, -1):
            w = W[l]
            if l < len(W) - 1:
                c = w
            blocks = nn.ModuleList()
            for i in range(cfg["blocksPerLevel"]):
                blocks.append(ResBlock3d(c + w if i == 0 else w, w, **rb))
                c = w
            dec[l] = blocks
        self.dec = nn.ModuleList(dec)
        self.out_norm = GroupNorm32(min(cfg["normGroups"], E), E)
        self.out_conv = PeriodicConv3d(E, 1)
        nn.init.zeros_(self.out_conv.weight)
        nn.init.zeros_(self.out_conv.bias)

    def forward(self, z, t_norm, cond):
        emb = in_float32(t_norm, self.temb)
        h = in_float32(torch.cat([z, cond], 1), self.in_conv)
        skips = []
        for l in range(self.levels):
            for b in self.enc[l]:
                h = b(h, emb)
            skips.append(h)
            if l < self.levels - 1:
                h = self.down[l](h)
        h = self.mid2(self.attn(self.mid1(h, emb)), emb)
        for l in range(self.levels - 1, -1, -1):
            if l < self.levels - 1:
                h = self.up[l](h)
            for i, b in enumerate(self.dec[l]):
                h = b(torch.cat([h, skips[l]], 1) if i == 0 else h, emb)
        return in_float32(F.silu(self.out_norm(h)), self.out_conv).add(z)


# ---------------------------------------------------------------- schedule and VDM (schedule.ts, vdm.ts)
class LinearGamma(nn.Module):
    """γ(t) = b + |w| t; α² = sigmoid(−γ), σ² = sigmoid(γ)."""

    def __init__(self, cfg):
        super().__init__()
        self.gmin, self.gmax = cfg["gammaMin"], cfg["gammaMax"]
        self.b = nn.Parameter(torch.tensor([float(self.gmin)]), requires_grad=cfg["learned"])
        self.w = nn.Parameter(torch.tensor([float(self.gmax - self.gmin)]), requires_grad=cfg["learned"])

    def forward(self, t):
        return self.b.add(self.w.abs().mul(t))

    def at(self, t):
        return float(self.b.item()) + abs(float(self.w.item())) * t

    def normalise(self, gamma):
        return gamma.sub(self.gmin).div(self.gmax - self.gmin)


def sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def alpha_at(g):
    return math.sqrt(sigmoid(-g))


def sigma_at(g):
    return math.sqrt(sigmoid(g))


def antithetic_steps(u0, batch, T):
    return [min(T, math.floor(((u0 + b / batch) % 1) * T) + 1) for b in range(batch)]


class LodiModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.net = LodiUNet(cfg["net"])
        self.gamma = LinearGamma(cfg["schedule"])
        # device type for torch.autocast(bfloat16) around the U-Net (lodi's --precision bfloat16), or None
        self.autocast = None

    def eps_hat(self, z, gamma, cond):
        if self.autocast:
            with torch.autocast(device_type=self.autocast, dtype=torch.bfloat16):
                out = self.net(z, self.gamma.normalise(gamma), cond)
            return out.float()
        return self.net(z, self.gamma.normalise(gamma), cond)

    def loss(self, x, cond, u0, eps, eps0):
        """(total, diffusion, prior, reconstruction): nats per voxel, mean over the batch."""
        B = x.shape[0]
        D = x.numel() // B
        T = self.cfg["schedule"]["steps"]
        steps = antithetic_steps(u0, B, T)
        t = torch.tensor([i / T for i in steps], dtype=torch.float32)
        s = torch.tensor([(i - 1) / T for i in steps], dtype=torch.float32)
        gt, gs = self.gamma(t), self.gamma(s)
        bc = lambda v: v.reshape(B, 1, 1, 1, 1)
        zt = bc(gt.neg().sigmoid().sqrt()).mul(x).add(bc(gt.sigmoid().sqrt()).mul(eps))
        eh = self.eps_hat(zt, gt, cond)
        sq = eps.sub(eh).square().sum([1, 2, 3, 4])
        diffusion = torch.expm1(gt.sub(gs)).mul(sq).mul(T / 2)
        ones = torch.ones(1)
        g1, g0 = self.gamma(ones), self.gamma(torch.zeros(1))
        var1 = g1.sigmoid()
        prior = x.square().sum([1, 2, 3, 4]).mul(ones.sub(var1)).add(var1.sub(var1.log()).sub(1).mul(D)).mul(0.5)
        a0, s0 = g0.neg().sigmoid().sqrt(), g0.sigmoid().sqrt()
        z0 = a0.mul(x).add(s0.mul(eps0))
        resid = x.sub(z0.div(a0)).div(g0.mul(0.5).exp())
        recon = resid.square().mul(0.5).sum([1, 2, 3, 4]).add(g0.mul(0.5).add(0.5 * math.log(2 * math.pi)).mul(D))
        total = diffusion.add(prior).add(recon).mean().div(D)
        return total, diffusion.mean().item() / D, prior.mean().item() / D, recon.mean().item() / D

    def ancestral_step(self, z, cond, i, noise, steps=None):
        """z_s = (α_s/α_t)(z_t − σ_t c ε̂) + σ_s √c ε, c = −expm1(γ(s) − γ(t)), t = i/T, s = (i−1)/T."""
        T = steps or self.cfg["schedule"]["steps"]
        gt, gs = self.gamma.at(i / T), self.gamma.at((i - 1) / T)
        eh = self.eps_hat(z, torch.full([z.shape[0]], gt, device=z.device), cond)
        c = -math.expm1(gs - gt)
        return z.sub(eh.mul(sigma_at(gt) * c)).mul(alpha_at(gs) / alpha_at(gt)).add(noise.mul(sigma_at(gs) * math.sqrt(c)))

    def alpha_sigma(self, i, steps):
        g = self.gamma.at(i / steps)
        return alpha_at(g), sigma_at(g)

    def final_estimate(self, z0):
        return z0.div(alpha_at(self.gamma.at(0)))


def load_checkpoint(path, group=None):
    """A lodi LODI checkpoint (run directory file *.safetensors) → (LodiModel in eval mode, metadata).
    Takes the `ema.*` weights when present (as lodi's loadLodi does), else `model.*`."""
    tensors, meta = read_safetensors(path)
    info = json.loads(meta["lodi-vdm"])
    groups = [group] if group else ["ema", "model"]
    g = next((g for g in groups if any(k.startswith(g + ".") for k in tensors)), None)
    if g is None:
        raise ValueError(f"{path}: holds no {' or '.join(groups)} weights")
    state = {k[len(g) + 1:]: v for k, v in tensors.items() if k.startswith(g + ".")}
    model = LodiModel(info["config"])
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, info


# ---------------------------------------------------------------- latent-overlap sampler (generate.ts)
@torch.no_grad()
def generate(model, cond, plan, steps, batch=8, progress=None, device_noise=False):
    """Standardised T_b [X,Y,Z] from standardised halo channels cond [C,X,Y,Z] with latent overlap
    on lodi's stage plan (`plan`: size, box, periodic, stages of {seed, origin}); noise per box from
    its own torch.Generator seeded like lodi's, so the output matches lodi's for the same plan.
    Runs on the model's device (batches and host-drawn noise copied over, as lodi does; with
    `device_noise` the per-box generators live on the device, as lodi's --noise device);
    `progress(done, total)` is called after each batch (bench/gpu-check.ts)."""
    c, size = plan["box"], plan["size"]
    model.eval()
    dev = next(model.parameters()).device
    total, done = sum(len(s) for s in plan["stages"]), 0
    y = np.zeros(size, dtype=np.float32)
    written = np.zeros(size, dtype=bool)
    ar = np.arange(c)
    for stage in plan["stages"]:
        for start in range(0, len(stage), batch):
            boxes = stage[start:start + batch]
            B = len(boxes)
            idx = [np.ix_(*[(o + ar) % n if plan["periodic"] else o + ar for o, n in zip(b["origin"], size)]) for b in boxes]
            cond_t = torch.from_numpy(np.stack([cond[(slice(None),) + ix] for ix in idx])).to(dev)
            masks = np.stack([written[ix] for ix in idx])
            any_known = bool(masks.any())
            if device_noise and dev.type != "cpu":
                gens = [torch.Generator(device=dev).manual_seed(b["seed"]) for b in boxes]
                randn = lambda: torch.cat([torch.randn([1, 1, c, c, c], generator=g, device=dev) for g in gens], 0)
            else:
                gens = [torch.Generator().manual_seed(b["seed"]) for b in boxes]
                randn = lambda: torch.cat([torch.randn([1, 1, c, c, c], generator=g) for g in gens], 0).to(dev)
            z = randn()
            # drawn for every box, known region or not, as lodi does (src/lodi/generate.ts): a box's noise
            # stream does not depend on which boxes share its batch
            eps_known = randn()
            if any_known:
                mask = torch.from_numpy(masks.astype(np.float32)).reshape(B, 1, c, c, c).to(dev)
                known = torch.from_numpy(np.stack([y[ix] for ix in idx])).reshape(B, 1, c, c, c).to(dev)
            for i in range(steps, 0, -1):
                zr = z
                if any_known:
                    a, s = model.alpha_sigma(i, steps)
                    noised = known.mul(a).add(eps_known.mul(s))
                    zr = z.add(noised.sub(z).mul(mask))
                z = model.ancestral_step(zr, cond_t, i, randn(), steps)
            xhat = model.final_estimate(z).cpu().numpy()
            for k, ix in enumerate(idx):
                sub = y[ix]
                w = ~masks[k]
                sub[w] = xhat[k, 0][w]
                y[ix] = sub
                written[ix] = True
            done += B
            if progress is not None:
                progress(done, total)
    return y


# ---------------------------------------------------------------- benchmark modes
class BudgetStop(Exception):
    """Raised by a `Budget` progress callback once its time is spent (bench/gpu-check.ts)."""


class Budget:
    """Progress callback of a timed run: records (seconds, units done) after each batch and, once
    `limit` seconds have passed with work left, stops the run (BudgetStop). `result()` gives the time
    of the whole run: measured when it finished, else extrapolated from the batches after the first
    (the first carries the warm-up: t1 + (tk - t1) (total - d1) / (dk - d1), as bench/gpu-check.ts)."""

    def __init__(self, limit=None):
        self.limit, self.t0, self.points, self.total = limit, time.perf_counter(), [], 0

    def __call__(self, done, total):
        t = time.perf_counter() - self.t0
        self.points.append((t, done))
        self.total = total
        if self.limit is not None and done < total and t > self.limit:
            raise BudgetStop()

    def result(self, seconds=None):
        """`seconds`: the time of the finished call (None when it was stopped)."""
        if seconds is not None:
            return {"seconds": seconds, "measured_s": seconds, "done": self.total, "total": self.total, "extrapolated": False}
        (t1, d1), (tk, dk) = self.points[0], self.points[-1]
        est = t1 + (tk - t1) * (self.total - d1) / (dk - d1) if dk > d1 else tk * self.total / dk
        return {"seconds": est, "measured_s": tk, "done": dk, "total": self.total, "extrapolated": True, "first_s": t1}


def _device_info(dev):
    """Versions and, on CUDA, the peak of PyTorch's allocator (bench/gpu-check.ts)."""
    out = {"torch": torch.__version__, "device": str(dev)}
    if dev.type == "cuda":
        torch.cuda.synchronize()
        out["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
        out["cuda_max_reserved_mb"] = torch.cuda.max_memory_reserved() / 2**20
    return out


def _maxrss_mb():
    """Peak RSS [MB] of this process (VmHWM; ru_maxrss would include the parent's peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mode_check(job):
    d = job["dir"]
    ld = lambda n: torch.from_numpy(np.load(os.path.join(d, n + ".npy")))
    model, info = load_checkpoint(job["checkpoint"])
    out = {"params": sum(p.numel() for p in model.parameters()), "keys": len(model.state_dict())}
    z, cond, gamma, t_norm = ld("z"), ld("cond"), ld("gamma"), ld("tnorm")
    with torch.no_grad():
        np.save(os.path.join(d, "py_net.npy"), model.net(z, t_norm, cond).numpy())
        np.save(os.path.join(d, "py_epshat.npy"), model.eps_hat(z, gamma, cond).numpy())
        np.save(os.path.join(d, "py_step.npy"), model.ancestral_step(z, cond, job["stepI"], ld("noise")).numpy())
    # loss and gradients (eval mode: no dropout), gradients flattened in lodi's parameter order
    total, dif, pri, rec = model.loss(ld("x"), ld("xcond"), job["u0"], ld("eps"), ld("eps0"))
    total.backward()
    params = dict(model.named_parameters())
    grads = [params[n].grad.reshape(-1) if params[n].grad is not None else torch.zeros(params[n].numel()) for n in job["names"]]
    np.save(os.path.join(d, "py_grads.npy"), torch.cat(grads).numpy())
    out["loss"] = [total.item(), dif, pri, rec]
    if job.get("plan"):
        with open(job["plan"]) as f:
            plan = json.load(f)
        cg = np.load(os.path.join(d, "gen_cond.npy"))
        np.save(os.path.join(d, "py_gen.npy"), generate(model, cg, plan, job["genSteps"]))
    return out


def mode_generate(job):
    """Times a whole generation. `checkpoint`, or `config` for random weights; optional `device`
    (default cpu) and `budget_s` (stop after that many seconds and extrapolate, see Budget)."""
    if job.get("checkpoint"):
        model, _ = load_checkpoint(job["checkpoint"])
    else:
        model = LodiModel(job["config"]).eval()
    dev = torch.device(job.get("device", "cpu"))
    model.to(dev)
    if job.get("autocast"):
        model.autocast = dev.type
    with open(job["plan"]) as f:
        plan = json.load(f)
    cond = np.load(job["cond"])
    generate(model, cond[:, :32, :32, :32], {**plan, "size": [32, 32, 32], "stages": [plan["stages"][0][:1]]}, 1)  # warm-up
    budget = Budget(job.get("budget_s"))
    t0 = time.perf_counter()
    try:
        y = generate(model, cond, plan, job["steps"], job.get("batch", 8), budget, job.get("device_noise", False))
        res = budget.result(time.perf_counter() - t0)
    except BudgetStop:
        y, res = None, budget.result()
    if job.get("out") and y is not None:
        np.save(job["out"], y)
    return {**res, "maxrss_mb": _maxrss_mb(), **_device_info(dev)}


def mode_serve(job):
    """Training steps or sampling steps on request: one command per line on stdin ({"cmd": "train"} or
    {"cmd": "sample", "batch": n}), one JSON line of timing per command on stdout."""
    cfg = job["config"]
    model = LodiModel(cfg)
    model.train()
    tc = cfg["train"]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=tc["lr"], weight_decay=tc["weightDecay"])
    ema = [p.detach().clone() for p in params]
    B, c, C = job["batch"], cfg["data"]["crop"], cfg["net"]["condChannels"]

    def step():
        x = torch.randn(B, 1, c, c, c)
        cond = torch.randn(B, C, c, c, c)
        u0 = torch.rand(1, dtype=torch.float64).item()
        eps, eps0 = torch.randn_like(x), torch.randn_like(x)
        total = model.loss(x, cond, u0, eps, eps0)[0]
        total.backward()
        total.item()
        with torch.no_grad():  # clipGradNorm as in lodi (float64 norm, coef = max / (norm + 1e-6))
            grads = [p.grad for p in params if p.grad is not None]
            norm = math.sqrt(torch.stack([g.double().square().sum() for g in grads]).sum().item())
            coef = tc["clipNorm"] / (norm + 1e-6)
            if tc["clipNorm"] > 0 and coef < 1:
                for g in grads:
                    g.mul_(coef)
        opt.step()
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            for s, p in zip(ema, params):
                s.lerp_(p, 1 - tc["emaDecay"])

    def sample_step(nb):
        """One ancestral step (no grad, eval mode) on nb crops: the unit of generation."""
        model.eval()
        with torch.no_grad():
            z = torch.randn(nb, 1, c, c, c)
            model.ancestral_step(z, torch.randn(nb, C, c, c, c), 25, torch.randn_like(z))
        model.train()

    print(json.dumps({"ready": True, "params": sum(p.numel() for p in model.parameters())}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("cmd") not in ("train", "sample"):
            break
        t0 = time.perf_counter()
        if cmd["cmd"] == "train":
            step()
        else:
            sample_step(cmd["batch"])
        print(json.dumps({"seconds": time.perf_counter() - t0, "maxrss_mb": _maxrss_mb()}), flush=True)
    return None


if __name__ == "__main__":
    job = json.loads(os.environ["LODI_JOB"])
    torch.set_num_threads(job.get("threads", torch.get_num_threads()))
    torch.manual_seed(job.get("seed", 0))
    res = {"check": mode_check, "generate": mode_generate, "serve": mode_serve}[job["mode"]](job)
    if res is not None:
        print(json.dumps(res), flush=True)

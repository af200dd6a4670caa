"""HALOgen in PyTorch: the same attention ResUNet (src/halogen/model.ts on the blocks of src/nets),
loss (src/halogen/loss.ts) and sliding-window inference (src/halogen/infer.ts) as lodi, with the
same module tree and state-dict names, so the weights of a lodi checkpoint load with
`load_state_dict(strict=True)`, the output buffers `outShift`/`outScale` included:

    import sys; sys.path.insert(0, "bench/py")
    from halogen import load_checkpoint, predict_halos
    net, meta = load_checkpoint("models/halogen-cpu/best.safetensors")   # eval mode
    y = net(x)                   # x [B,1,n,n,n] standardised log DM density → [B,4,n,n,n] log10 ρ_h
    log_rho, rho = predict_halos(net, meta, dm)   # a whole periodic DM box [N,N,N] (numpy)

State-dict names (PyTorch's, as in every lodi HALOgen checkpoint under `model.*`):
stem · enc{l}_{b} (norm1, conv1, norm2, conv2, skip) · attn (norm, qkv, proj) · mid ·
up{l} · dec{l}_{b} · headNorm · head1 · head2 · buffers outShift, outScale. No name map is needed:
lodi has written these names since its first HALOgen checkpoint.

A lodi checkpoint is a safetensors file whose metadata holds the run's JSON (config, normalisation,
...) under the key `halogen` (read with bench/py/lodi.py's reader).

As a script it serves bench/halogen.ts: a JSON job in the environment variable HALOGEN_JOB selects a
mode (`check`: outputs and gradients of a checkpoint on given inputs, as .npy; `train`/`infer`:
timings) and the result is printed as one JSON line.
"""
import json, math, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lodi import Budget, BudgetStop, _device_info, read_safetensors  # noqa: E402

# ---------------------------------------------------------------- blocks (src/nets)
ACTIVATIONS = {
    "silu": F.silu,
    "gelu": F.gelu,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
}



class GroupNorm32(nn.GroupNorm):
    """nn.GroupNorm that promotes a lower-precision input to its weights' float32, as lodi's groupNorm does
    (CUDA autocast does it by itself; PyTorch 1.13's CPU autocast leaves group_norm out and fails on mixed
    dtypes). The same parameters and names as nn.GroupNorm; in float32 the same numbers."""

    def forward(self, x):
        return super().forward(x.to(self.weight.dtype) if x.dtype != self.weight.dtype else x)

class GroupedConv3d(nn.Conv3d):
    """src/nets/grouped.ts: grouped conv, circular padding of (k−1)/2 when `circular`, run as one
    dense conv with a block-diagonal weight when in/groups ≥ block_diagonal_min (same result)."""

    def __init__(self, cin, cout, kernel, groups, circular, block_diagonal_min):
        super().__init__(cin, cout, kernel, groups=groups, padding=0 if circular else (kernel - 1) // 2)
        self.circular = circular
        self.dense = groups > 1 and cin // groups >= block_diagonal_min

    def forward(self, x):
        p = (self.kernel_size[0] - 1) // 2
        if self.circular and p > 0:
            x = F.pad(x, [p] * 6, mode="circular")
        pad = 0 if self.circular else p
        if not self.dense:
            return F.conv3d(x, self.weight, self.bias, padding=pad, groups=self.groups)
        g, k = self.groups, self.kernel_size[0]
        co, ci = self.out_channels // g, self.in_channels // g
        eye = torch.eye(g, dtype=self.weight.dtype, device=self.weight.device).reshape(g, 1, g, 1, 1, 1, 1)
        w = (self.weight.reshape(g, co, 1, ci, k, k, k) * eye).reshape(self.out_channels, self.in_channels, k, k, k)
        return F.conv3d(x, w, self.bias, padding=pad)


class ResBlock3d(nn.Module):
    """src/nets/blocks.ts ResBlock3d with grouped convs, two convs, no embedding, no dropout:
    conv2(act(norm2(conv1(act(norm1 x))))) + (skip(x) or x)."""

    def __init__(self, cin, cout, kernel, groups, norm_groups, act, bdm):
        super().__init__()
        self.act = ACTIVATIONS[act]
        self.norm1 = GroupNorm32(min(norm_groups, cin), cin)
        self.conv1 = GroupedConv3d(cin, cout, kernel, groups, True, bdm)
        self.norm2 = GroupNorm32(min(norm_groups, cout), cout)
        self.conv2 = GroupedConv3d(cout, cout, kernel, groups, True, bdm)
        self.skip = None if cin == cout else GroupedConv3d(cin, cout, 1, groups, True, bdm)

    def forward(self, x):
        h = self.conv1(self.act(self.norm1(x)))
        h = self.conv2(self.act(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class SelfAttention3d(nn.Module):
    """src/nets/blocks.ts SelfAttention3d, grouped: qkv channels of stream s are
    [q | k | v] x heads/groups x d, so every head stays inside its stream."""

    def __init__(self, channels, heads, norm_groups, groups, bdm):
        super().__init__()
        self.heads, self.groups = heads, groups
        self.norm = GroupNorm32(min(norm_groups, channels), channels)
        self.qkv = GroupedConv3d(channels, 3 * channels, 1, groups, False, bdm)
        self.proj = GroupedConv3d(channels, channels, 1, groups, False, bdm)

    def forward(self, x):
        B, C, X, Y, Z = x.shape
        L, d, G = X * Y * Z, C // self.heads, self.groups
        qkv = self.qkv(self.norm(x)).reshape(B, G, 3, self.heads // G, d, L)
        q, k, v = (qkv.select(2, i).reshape(B * self.heads, d, L) for i in range(3))
        att = torch.softmax(torch.bmm(q.transpose(1, 2), k).mul(1 / math.sqrt(d)).float(), -1)
        o = torch.bmm(v, att.transpose(1, 2)).reshape(B, C, X, Y, Z)
        return x + self.proj(o)


def cat_groups(a, b, groups):
    """src/nets/grouped.ts catGroups: [a_0, b_0, a_1, b_1, ...] per group along channels."""
    B, Ca = a.shape[:2]
    Cb, sp = b.shape[1], a.shape[2:]
    return torch.cat([a.reshape(B, groups, Ca // groups, *sp), b.reshape(B, groups, Cb // groups, *sp)], 2).reshape(B, Ca + Cb, *sp)


def upsample_periodic(x):
    """src/nets/resample.ts upsamplePeriodic: circular pad 1, trilinear x2, crop 2 per side."""
    n = x.shape[2:]
    u = F.interpolate(F.pad(x, [1] * 6, mode="circular"), scale_factor=2, mode="trilinear", align_corners=False)
    return u[:, :, 2 : 2 + 2 * n[0], 2 : 2 + 2 * n[1], 2 : 2 + 2 * n[2]]


# ---------------------------------------------------------------- network (src/halogen/model.ts)
class HalogenNet(nn.Module):
    def __init__(self, cfg):
        """`cfg`: the `model` part of a HALOgen config (checkpoint metadata `config.model`)."""
        super().__init__()
        self.cfg = cfg
        g, ch, k = cfg["groups"], cfg["channels"], cfg["kernel"]
        bdm, act = cfg["blockDiagonalMin"], cfg["activation"]
        ng = g * cfg["normGroupsPerStream"]
        self.act = ACTIVATIONS[act]
        block = lambda cin, cout: ResBlock3d(cin, cout, k, g, ng, act, bdm)  # noqa: E731
        self.stem = GroupedConv3d(cfg["inChannels"], ch[0], k, 1, True, bdm)
        self.enc_names = []
        for l in range(4):
            names = []
            for b in range(1 if l == 3 else cfg["blocksPerStage"]):
                setattr(self, f"enc{l}_{b}", block(ch[max(0, l - 1)] if b == 0 else ch[l], ch[l]))
                names.append(f"enc{l}_{b}")
            self.enc_names.append(names)
        self.attn = SelfAttention3d(ch[3], g * cfg["headsPerStream"], ng, g, bdm)
        self.mid = block(ch[3], ch[3])
        self.dec_names = []
        for l in (2, 1, 0):
            setattr(self, f"up{l}", GroupedConv3d(ch[l + 1], ch[l], k, g, True, bdm))
            names = []
            for b in range(cfg["blocksPerStage"]):
                setattr(self, f"dec{l}_{b}", block(2 * ch[l] if b == 0 else ch[l], ch[l]))
                names.append(f"dec{l}_{b}")
            self.dec_names.append((l, names))
        self.headNorm = GroupNorm32(ng, ch[0])
        self.head1 = GroupedConv3d(ch[0], ch[0], k, g, True, bdm)
        self.head2 = GroupedConv3d(ch[0], cfg["outChannels"], 1, g, False, bdm)
        self.register_buffer("outShift", torch.zeros(cfg["outChannels"]))
        self.register_buffer("outScale", torch.ones(cfg["outChannels"]))

    def forward(self, x):
        """[B,1,n,n,n] standardised log DM density → [B,C,n,n,n] log10 ρ_h (n a multiple of 8)."""
        g = self.cfg["groups"]
        skips, h = [], self.stem(x)
        for l in range(4):
            if l > 0:
                h = F.max_pool3d(h, 2)
            for name in self.enc_names[l]:
                h = getattr(self, name)(h)
            if l < 3:
                skips.append(h)
        h = self.mid(self.attn(h))
        for l, names in self.dec_names:
            h = cat_groups(getattr(self, f"up{l}")(upsample_periodic(h)), skips[l], g)
            for name in names:
                h = getattr(self, name)(h)
        h = self.head2(self.act(self.head1(self.act(self.headNorm(h)))))
        C = self.cfg["outChannels"]
        return h * self.outScale.reshape(1, C, 1, 1, 1) + self.outShift.reshape(1, C, 1, 1, 1)


def load_checkpoint(path):
    """(HalogenNet in eval mode with the file's `model.*` weights, metadata dict). Strict loading."""
    tensors, meta = read_safetensors(path)
    if "halogen" not in meta:
        raise ValueError(f"{path}: not a HALOgen checkpoint (no 'halogen' metadata)")
    m = json.loads(meta["halogen"])
    net = HalogenNet(m["config"]["model"])
    net.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    return net.eval(), m


# ---------------------------------------------------------------- loss (src/halogen/loss.ts, Eq. 2–7)
def weighted_mask(y, thresholds):
    B, C = y.shape[:2]
    V = y[0, 0].numel()
    with torch.no_grad():
        above = (y > torch.tensor(thresholds, dtype=y.dtype).reshape(1, C, 1, 1, 1)).float()
        cnt = above.sum((2, 3, 4))
        nbr = torch.stack([cnt[:, max(0, i - 1) : min(C, i + 2)].sum(1) for i in range(C)], 1).clamp(min=1)
        w = (nbr.pow(-1) * V).reshape(B, C, 1, 1, 1)
        m = torch.where(above > 0.5, w.expand_as(y), torch.ones_like(y))
        return m / m.mean((1, 2, 3, 4), keepdim=True)


def halogen_loss(pred, y, mask, loss_cfg, l1=None):
    d = y - pred
    mse = (d.square() * mask).mean((0, 2, 3, 4))
    q = loss_cfg["q"]
    pin = torch.maximum(d * q, d * (q - 1)).mean((0, 2, 3, 4))
    beta = torch.tensor(loss_cfg["beta"][: pred.shape[1]], dtype=pred.dtype)
    total = (mse * beta * loss_cfg["alpha"] + pin * (1 - loss_cfg["alpha"])).sum()
    return total + loss_cfg["lambdaW"] * l1 if l1 is not None else total


def l1_of(net):
    return torch.stack([p.abs().sum() for p in net.parameters()]).sum()


# ---------------------------------------------------------------- inference (src/halogen/infer.ts)
def log_dm(dm, data_cfg):
    mean = dm.astype(np.float64).mean() if data_cfg["dmNormalise"] == "box-mean" else 1.0
    return np.log10(np.maximum(0, dm.astype(np.float64)) / mean + data_cfg["dmOffset"]).astype(np.float32)


def predict_halos(net, meta, dm, stride=None, batch=None, floor_log=None, progress=None, autocast=False):
    """Sliding-window prediction over a periodic DM box dm [N,N,N]: (log10 ρ_h [C,N,N,N] averaged
    over the windows, ρ_h with values below floor_log set to 0). Windows run on the network's
    device (host-built batches copied over); `progress(done, total)` after each batch. `autocast`:
    the network under torch.autocast(bfloat16), its output as float32 (lodi's --precision bfloat16)."""
    dev = next(net.parameters()).device
    cfg, norm = meta["config"], meta["normalisation"]
    c = cfg["data"]["crop"]
    stride = stride or cfg["infer"]["stride"]
    batch = batch or cfg["infer"]["batch"]
    floor_log = cfg["infer"]["floorLog"] if floor_log is None else floor_log
    n = dm.shape[0]
    x = ((log_dm(dm, cfg["data"]).astype(np.float64) - norm["dmMean"]) / norm["dmStd"]).astype(np.float32)
    C = cfg["model"]["outChannels"]
    acc = np.zeros((C, n, n, n))
    cnt = np.zeros((n, n, n))
    origins = [(a, b, d) for a in range(0, n, stride) for b in range(0, n, stride) for d in range(0, n, stride)]
    with torch.no_grad():
        for s in range(0, len(origins), batch):
            idx = [[np.arange(o, o + c) % n for o in w] for w in origins[s : s + batch]]
            xb = np.stack([x[np.ix_(*ii)] for ii in idx])[:, None]
            xt = torch.from_numpy(np.ascontiguousarray(xb)).to(dev)
            if autocast:
                with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
                    yt = net(xt)
                yb = yt.float().cpu().numpy()
            else:
                yb = net(xt).cpu().numpy()
            for ii, yy in zip(idx, yb):
                acc[(slice(None),) + np.ix_(*ii)] += yy
                cnt[np.ix_(*ii)] += 1
            if progress is not None:
                progress(min(s + batch, len(origins)), len(origins))
    log = (acc / cnt).astype(np.float32)
    rho = np.where(log < floor_log, 0, np.maximum(0, 10.0 ** log.astype(np.float64) - cfg["data"]["haloOffset"])).astype(np.float32)
    return log, rho


# ---------------------------------------------------------------- bench/halogen.ts jobs
def mode_check(job):
    """Loads `checkpoint` strictly; writes py_net.npy (forward of x.npy), py_grads.npy (gradients of
    the loss of x.npy against y.npy, in the order of `names`), py_log.npy / py_density.npy (the
    sliding-window prediction of dm.npy with `stride`); returns the loss value and sizes."""
    d = job["dir"]
    net, meta = load_checkpoint(job["checkpoint"])
    rd = lambda name: torch.from_numpy(np.load(os.path.join(d, f"{name}.npy")))  # noqa: E731
    with torch.no_grad():
        np.save(os.path.join(d, "py_net.npy"), net(rd("x")).numpy())
    params = dict(net.named_parameters())
    missing = [k for k in job["names"] if k not in params]
    if missing or len(params) != len(job["names"]):
        raise ValueError(f"parameter names differ: missing {missing}")
    y = rd("y")
    x = rd("x")
    loss = halogen_loss(net(x), y, weighted_mask(y, job["thresholds"]), meta["config"]["loss"], l1_of(net))
    loss.backward()
    np.save(os.path.join(d, "py_grads.npy"), torch.cat([params[k].grad.reshape(-1) for k in job["names"]]).numpy())
    log, rho = predict_halos(net, meta, np.load(os.path.join(d, "dm.npy")), stride=job["stride"])
    np.save(os.path.join(d, "py_log.npy"), log)
    np.save(os.path.join(d, "py_density.npy"), rho)
    return {"loss": loss.item(), "params": sum(p.numel() for p in net.parameters()), "keys": len(net.state_dict())}


def mode_time(job):
    torch.manual_seed(0)
    net = HalogenNet(job["model"])
    c, B = job["crop"], job["batch"]
    loss_cfg = {"alpha": 0.6, "q": 0.7, "beta": [1.0, 2.0, 5.0, 8.0], "lambdaW": 1e-6}
    out = {"params": sum(p.numel() for p in net.parameters())}
    if job["mode"] == "train":
        opt = torch.optim.RMSprop(net.parameters(), lr=2e-4)

        def step():
            x = torch.randn(B, 1, c, c, c)
            y = torch.randn(B, 4, c, c, c) + 10
            loss = halogen_loss(net(x), y, weighted_mask(y, [10.5] * 4), loss_cfg, l1_of(net))
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()  # warm-up
        ts = []
        for _ in range(job["reps"]):
            t0 = time.perf_counter()
            step()
            ts.append(time.perf_counter() - t0)
        out["train"] = ts
    else:
        net.eval()
        n = job["n"]
        meta = {
            "config": {"data": {"crop": c, "dmNormalise": "none", "dmOffset": 1.0, "haloOffset": 1e8},
                       "infer": {"stride": job["stride"], "batch": job["inferBatch"], "floorLog": 9.5},
                       "model": job["model"]},
            "normalisation": {"dmMean": 0.0, "dmStd": 1.0},
        }
        dm = np.random.default_rng(0).random((n, n, n)).astype(np.float32)
        dev = torch.device(job.get("device", "cpu"))
        net.to(dev)
        if job.get("warmup"):  # 8 windows (bench/gpu-check.ts: the first CUDA calls pick kernels)
            predict_halos(net, meta, dm[:c, :c, :c], stride=c // 2, autocast=job.get("autocast", False))
        budget = Budget(job.get("budget_s"))
        t0 = time.perf_counter()
        try:
            predict_halos(net, meta, dm, progress=budget, autocast=job.get("autocast", False))
            res = budget.result(time.perf_counter() - t0)
        except BudgetStop:
            res = budget.result()
        out["infer"] = [res["seconds"]]
        out.update(res)
        out.update(_device_info(dev))
    return out


if __name__ == "__main__":
    job = json.loads(os.environ["HALOGEN_JOB"])
    torch.set_num_threads(job["threads"])
    print(json.dumps(mode_check(job) if job["mode"] == "check" else mode_time(job)))

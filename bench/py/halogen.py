"""HALOgen attention ResUNet in PyTorch, the same architecture as src/halogen/model.ts, for the
timing comparison in bench/halogen.ts. Reads a JSON job from the HALOGEN_JOB environment variable
and prints one JSON line of timings (seconds)."""
import json, math, os, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

job = json.loads(os.environ["HALOGEN_JOB"])
cfg = job["model"]
torch.set_num_threads(job["threads"])
torch.manual_seed(0)
G = cfg["groups"]
ACT = {"silu": F.silu, "gelu": F.gelu, "relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.01)}[cfg["activation"]]


class GConv(nn.Module):
    def __init__(self, cin, cout, k, groups, circular):
        super().__init__()
        self.k, self.groups, self.circular = k, groups, circular
        self.dense = groups > 1 and cin // groups >= cfg["blockDiagonalMin"]
        self.conv = nn.Conv3d(cin, cout, k, groups=groups, padding=0 if circular else k // 2)
        self.cin, self.cout = cin, cout

    def forward(self, x):
        p = (self.k - 1) // 2
        if self.circular and p > 0:
            x = F.pad(x, [p] * 6, mode="circular")
        if not self.dense:
            return self.conv(x)
        g, k = self.groups, self.k
        co, ci = self.cout // g, self.cin // g
        eye = torch.eye(g).reshape(g, 1, g, 1, 1, 1, 1)
        w = (self.conv.weight.reshape(g, co, 1, ci, k, k, k) * eye).reshape(self.cout, self.cin, k, k, k)
        return F.conv3d(x, w, self.conv.bias)


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        ng = G * cfg["normGroupsPerStream"]
        self.n1, self.c1 = nn.GroupNorm(ng, cin), GConv(cin, cout, cfg["kernel"], G, True)
        self.n2, self.c2 = nn.GroupNorm(ng, cout), GConv(cout, cout, cfg["kernel"], G, True)
        self.skip = None if cin == cout else GConv(cin, cout, 1, G, True)

    def forward(self, x):
        h = self.c1(ACT(self.n1(x)))
        h = self.c2(ACT(self.n2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.norm = nn.GroupNorm(G * cfg["normGroupsPerStream"], c)
        self.qkv, self.proj = GConv(c, 3 * c, 1, G, False), GConv(c, c, 1, G, False)

    def forward(self, x):
        B, C, D, H, W = x.shape
        L, hs = D * H * W, cfg["headsPerStream"]
        heads = G * hs
        d = C // heads
        qkv = self.qkv(self.norm(x)).reshape(B, G, 3, hs, d, L)
        q, k, v = (qkv[:, :, i].reshape(B * heads, d, L) for i in range(3))
        att = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(d), -1)
        o = torch.bmm(v, att.transpose(1, 2)).reshape(B, C, D, H, W)
        return x + self.proj(o)


def cat_streams(a, b):
    B, Ca = a.shape[:2]
    Cb, sp = b.shape[1], a.shape[2:]
    return torch.cat([a.reshape(B, G, Ca // G, *sp), b.reshape(B, G, Cb // G, *sp)], 2).reshape(B, Ca + Cb, *sp)


def up(x):
    n = x.shape[2:]
    u = F.interpolate(F.pad(x, [1] * 6, mode="circular"), scale_factor=2, mode="trilinear", align_corners=False)
    return u[:, :, 2 : 2 + 2 * n[0], 2 : 2 + 2 * n[1], 2 : 2 + 2 * n[2]]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        ch, nb, k = cfg["channels"], cfg["blocksPerStage"], cfg["kernel"]
        self.stem = GConv(cfg["inChannels"], ch[0], k, 1, True)
        self.enc = nn.ModuleList()
        for l in range(4):
            n = 1 if l == 3 else nb
            self.enc.append(nn.ModuleList([ResBlock(ch[max(0, l - 1)] if b == 0 else ch[l], ch[l]) for b in range(n)]))
        self.attn, self.mid = Attention(ch[3]), ResBlock(ch[3], ch[3])
        self.ups, self.dec = nn.ModuleList(), nn.ModuleList()
        for l in (2, 1, 0):
            self.ups.append(GConv(ch[l + 1], ch[l], k, G, True))
            self.dec.append(nn.ModuleList([ResBlock(2 * ch[l] if b == 0 else ch[l], ch[l]) for b in range(nb)]))
        self.hn = nn.GroupNorm(G * cfg["normGroupsPerStream"], ch[0])
        self.h1, self.h2 = GConv(ch[0], ch[0], k, G, True), GConv(ch[0], cfg["outChannels"], 1, G, False)

    def forward(self, x):
        skips, h = [], self.stem(x)
        for l in range(4):
            if l > 0:
                h = F.max_pool3d(h, 2)
            for b in self.enc[l]:
                h = b(h)
            if l < 3:
                skips.append(h)
        h = self.mid(self.attn(h))
        for i in range(3):
            h = cat_streams(self.ups[i](up(h)), skips[2 - i])
            for b in self.dec[i]:
                h = b(h)
        return self.h2(ACT(self.h1(ACT(self.hn(h)))))


net = Net()
opt = torch.optim.RMSprop(net.parameters(), lr=2e-4)
c, B = job["crop"], job["batch"]
q, alpha, beta = 0.7, 0.6, torch.tensor([1.0, 2.0, 5.0, 8.0])


def train_step():
    x = torch.randn(B, 1, c, c, c)
    y = torch.randn(B, 4, c, c, c) + 10
    with torch.no_grad():
        above = (y > 10.5).float()
        cnt = above.sum((2, 3, 4))
        nbr = torch.stack([cnt[:, max(0, i - 1) : min(4, i + 2)].sum(1) for i in range(4)], 1).clamp(min=1)
        w = (c**3 / nbr).reshape(B, 4, 1, 1, 1)
        m = torch.where(above > 0.5, w.expand_as(y), torch.ones_like(y))
        m = m / m.mean((1, 2, 3, 4), keepdim=True)
    pred = net(x)
    d = y - pred
    mse = (d.square() * m).mean((0, 2, 3, 4))
    pin = torch.maximum(q * d, (q - 1) * d).mean((0, 2, 3, 4))
    l1 = sum(p.abs().sum() for p in net.parameters())
    loss = (alpha * beta * mse + (1 - alpha) * pin).sum() + 1e-6 * l1
    opt.zero_grad()
    loss.backward()
    opt.step()


def infer(n, stride, batch):
    x = np.random.default_rng(0).standard_normal((n, n, n)).astype(np.float32)
    acc = np.zeros((4, n, n, n))
    cnt = np.zeros((n, n, n))
    origins = [(a, b_, d) for a in range(0, n, stride) for b_ in range(0, n, stride) for d in range(0, n, stride)]
    with torch.no_grad():
        for s in range(0, len(origins), batch):
            grp = origins[s : s + batch]
            idx = [[np.arange(o + 0, o + c) % n for o in w] for w in grp]
            xb = np.stack([x[np.ix_(*ii)] for ii in idx])[:, None]
            yb = net(torch.from_numpy(xb)).numpy()
            for ii, yy in zip(idx, yb):
                acc[(slice(None),) + np.ix_(*ii)] += yy
                cnt[np.ix_(*ii)] += 1
    return acc / cnt


out = {}
mode = job["mode"]
if mode == "train":
    train_step()  # warm-up
    ts = []
    for _ in range(job["reps"]):
        t0 = time.perf_counter()
        train_step()
        ts.append(time.perf_counter() - t0)
    out["train"] = ts
elif mode == "infer":
    net.eval()
    t0 = time.perf_counter()
    infer(job["n"], job["stride"], job["inferBatch"])
    out["infer"] = [time.perf_counter() - t0]
out["params"] = sum(p.numel() for p in net.parameters())
print(json.dumps(out))

#!/usr/bin/env python3
"""Data-free channel scores for BN-folded exports, measured in setting (a) (no data, no
fine-tuning) by zeroing the channels a score drops, which is what `pruned prune`'s surgery does
to the outputs (a removed channel reads as zero in every consumer).

    python3 scripts/mfis_quality/criterion_study.py --tasks /tmp/mfis-q2 [--scores a,b,...]

Per arch, rate and score: the mean test accuracy over the 4 tasks, each task pruned on its own
(keep max(1, round((1 - r) N)) of every group, as `pruned prune --rate r`), next to Torch-
Pruning's (the same selection rule reimplemented on the unfolded torch weights: out-channel L1 of
each conv, |γ| of each BN, in-channel L1 of each consumer, 'mean' reduction).

Scores read the folded ONNX weights only (what `pruned` sees), except `tp_*` (torch weights, for
reference) and `oracle_*` (statistics of the real training inputs: a ceiling, not a candidate).
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from config import RATES, TASKS  # noqa: E402

# ---------------------------------------------------------------- architectures (folded weights)

# Per group: the producer convs (their outputs carry the channel), the consumers reading it
# (name, kind, the activation they read), as `pruned inspect` finds them.
GROUPS = {
    "vgg": [
        dict(producers=["features.0"], consumers=[("features.3", "conv", "a0")]),
        dict(producers=["features.3"], consumers=[("features.7", "conv", "p1")]),
        dict(producers=["features.7"], consumers=[("features.10", "conv", "a2")]),
        dict(producers=["features.10"], consumers=[("features.14", "conv", "p3")]),
        dict(producers=["features.14"], consumers=[("head", "flat4", "a4")]),
    ],
    "resnet": [
        dict(producers=["stem.0", "layer1.0.conv2", "layer1.1.conv2"],
             consumers=[("layer1.0.conv1", "conv", "r0"), ("layer1.1.conv1", "conv", "r2"),
                        ("layer2.0.conv1", "conv", "r4"), ("layer2.0.downsample.0", "conv", "r4")]),
        dict(producers=["layer1.0.conv1"], consumers=[("layer1.0.conv2", "conv", "r1")]),
        dict(producers=["layer1.1.conv1"], consumers=[("layer1.1.conv2", "conv", "r3")]),
        dict(producers=["layer2.0.conv1"], consumers=[("layer2.0.conv2", "conv", "r5")]),
        dict(producers=["layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2"],
             consumers=[("layer2.1.conv1", "conv", "r6"), ("layer3.0.conv1", "conv", "r8"),
                        ("layer3.0.downsample.0", "conv", "r8")]),
        dict(producers=["layer2.1.conv1"], consumers=[("layer2.1.conv2", "conv", "r7")]),
        dict(producers=["layer3.0.conv1"], consumers=[("layer3.0.conv2", "conv", "r9")]),
        dict(producers=["layer3.0.conv2", "layer3.0.downsample.0"], consumers=[("head", "linear", "gap")]),
    ],
}


def load_folded(path):
    """{layer: (weight, bias)} from the ONNX initializers (`<conv>.weight`, `<conv>.weight_bias`)."""
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}
    layers = {}
    for name, t in init.items():
        if name.endswith(".weight"):
            base = name[:-len(".weight")]
            bias = init.get(name + "_bias", init.get(base + ".bias"))
            layers[base] = (t, bias)
    return layers


def conv(W, name, x, stride=1):
    w, b = W[name]
    return F.conv2d(x, w, b, stride, padding=w.shape[-1] // 2)


def forward(arch, W, x, masks=None, taps=None):
    """The folded net; `masks[layer]` (per output channel, 0/1) multiplies a producer's output
    (before the add and the ReLU: a removed channel is zero everywhere); `taps` collects the
    activations the consumers read."""
    t = taps if taps is not None else {}

    def m(n, y):
        t["pre:" + n] = y
        return y * masks[n].view(1, -1, 1, 1) if masks and n in masks else y
    if arch == "vgg":
        a = F.relu(m("features.0", conv(W, "features.0", x))); t["a0"] = a
        a = F.relu(m("features.3", conv(W, "features.3", a))); a = F.max_pool2d(a, 2); t["p1"] = a
        a = F.relu(m("features.7", conv(W, "features.7", a))); t["a2"] = a
        a = F.relu(m("features.10", conv(W, "features.10", a))); a = F.max_pool2d(a, 2); t["p3"] = a
        a = F.relu(m("features.14", conv(W, "features.14", a))); t["a4"] = a
        w, b = W["head"]
        return F.linear(a.flatten(1), w, b)
    r = F.relu(m("stem.0", conv(W, "stem.0", x))); t["r0"] = r
    k = 0
    for blk, stride in (("layer1.0", 1), ("layer1.1", 1), ("layer2.0", 2), ("layer2.1", 1), ("layer3.0", 2)):
        h = F.relu(m(blk + ".conv1", conv(W, blk + ".conv1", r, stride))); t[f"r{k + 1}"] = h
        y = m(blk + ".conv2", conv(W, blk + ".conv2", h))
        short = m(blk + ".downsample.0", conv(W, blk + ".downsample.0", r, stride)) if blk + ".downsample.0" in W else r
        r = F.relu(y + short); t[f"r{k + 2}"] = r
        k += 2
    g = r.mean((2, 3)); t["gap"] = g[:, :, None, None]
    w, b = W["head"]
    return F.linear(g, w, b)


def consumer_slices(W, name, kind, n):
    """Per channel, the consumer's weights that read it, flattened: rows = channels."""
    w = W[name][0]
    if kind == "conv":
        return w.transpose(0, 1).reshape(n, -1)
    if kind == "flat4":
        return w.reshape(w.shape[0], n, -1).transpose(0, 1).reshape(n, -1)
    return w.transpose(0, 1).reshape(n, -1)


def size(W, group):
    return W[group["producers"][0]][0].shape[0]


def kept(n, rate):
    return max(1, int((1 - rate) * n + 0.5))


@torch.no_grad()
def accuracy(arch, W, x, y, masks=None):
    return (forward(arch, W, x, masks).argmax(1) == y).double().mean().item() * 100


# ---------------------------------------------------------------- statistics of the activations

def moments(taps):
    """Per tap, per channel: E[x], E[x²], E|x| over samples and positions."""
    out = {}
    for k, v in taps.items():
        v = v.double()
        out[k] = dict(mean=v.mean((0, 2, 3)), sq=(v * v).mean((0, 2, 3)), abs=v.abs().mean((0, 2, 3)),
                      var=v.var((0, 2, 3), unbiased=False))
    return out


def synthetic_inputs(kind, seed=0, n=64):
    g = torch.Generator().manual_seed(seed)
    s = data.SIZE
    if kind == "zero":
        return torch.zeros(1, 1, s, s)
    if kind == "gauss":
        return torch.randn(n, 1, s, s, generator=g)
    raise ValueError(kind)


@torch.no_grad()
def stats(arch, W, x):
    taps = {}
    forward(arch, W, x, taps=taps)
    return moments(taps)


# ---------------------------------------------------------------- scores

def l1_rows(t):
    return t.reshape(t.shape[0], -1).abs().sum(1).double()


def producer_l1(ctx, g):
    return sum(l1_rows(ctx["W"][p][0]) for p in g["producers"])


def consumer_norm(ctx, g, p=1):
    n = size(ctx["W"], g)
    return sum(consumer_slices(ctx["W"], c, k, n).abs().pow(p).sum(1).double() for c, k, _ in g["consumers"])


def energy(ctx, g, src, what="sq", p=2):
    """Σ over consumers of ‖W_cons[:, c]‖_p^p × the statistic of the activation it reads."""
    n = size(ctx["W"], g)
    st = ctx["stats"][src]
    return sum(consumer_slices(ctx["W"], c, k, n).abs().pow(p).sum(1).double() * st[tap][what]
               for c, k, tap in g["consumers"])


def energy_dc(ctx, g, src):
    """What the consumers' outputs lose: the mean part through each kernel's sum (a constant
    input), plus the variance part as if the input were white."""
    n = size(ctx["W"], g)
    st = ctx["stats"][src]
    total = 0
    for c, k, tap in g["consumers"]:
        w = ctx["W"][c][0].double()
        if k == "conv":
            ksum = w.sum((2, 3)).transpose(0, 1)                 # channel x out
            wsq = w.pow(2).sum((2, 3)).transpose(0, 1).sum(1)
        else:
            rows = consumer_slices(ctx["W"], c, k, n).double()   # channel x (out·hw)
            ksum = rows.reshape(n, w.shape[0], -1).sum(2)
            wsq = rows.pow(2).sum(1)
        total = total + ksum.pow(2).sum(1) * st[tap]["mean"] ** 2 + wsq * st[tap]["var"]
    return total


def tp_l1(ctx, g):
    """Torch-Pruning's MagnitudeImportance(p=1) on the unfolded torch weights: Σ of the layers'
    L1 (out rows, BN |γ|, consumer in-slices) over their count."""
    sd, n = ctx["sd"], size(ctx["W"], g)
    parts = []
    for p in g["producers"]:
        parts.append(l1_rows(sd[p + ".weight"]))
        bn = p.replace("conv", "bn") if "conv" in p else (p[:-1] + "1" if p.endswith(".0") else None)
        bn = {"stem.0": "stem.1", "features.0": "features.1", "features.3": "features.4", "features.7": "features.8",
              "features.10": "features.11", "features.14": "features.15"}.get(p, bn)
        if bn + ".weight" in sd:
            parts.append(sd[bn + ".weight"].abs().double())
    for c, k, _ in g["consumers"]:
        w = {"weight": sd[c + ".weight"]}
        parts.append(consumer_slices({c: (w["weight"], None)}, c, k, n).abs().sum(1).double())
    return sum(parts) / len(parts)


def bn_of(p):
    """The torch BN after a conv of models.py."""
    if p.startswith("features."):
        return f"features.{int(p.split('.')[1]) + 1}"
    if p == "stem.0":
        return "stem.1"
    return p.replace("conv", "bn") if "conv" in p else p[:-1] + "1"


def tp_parts(ctx, g, producer, consumer, bn):
    sd, n = ctx["sd"], size(ctx["W"], g)
    parts = []
    for p in g["producers"]:
        parts.append(producer(sd[p + ".weight"].reshape(n, -1)))
        if bn is not None:
            parts.append(bn(sd[bn_of(p) + ".weight"]))
    for c, k, _ in g["consumers"]:
        parts.append(consumer(consumer_slices({c: (sd[c + ".weight"], None)}, c, k, n)))
    parts = [q for q in parts if q is not None]
    s = sum(parts) / len(parts)
    return s / s.mean()


def fpgm_rows(w):
    v = w.abs().pow(2)
    return torch.cdist(v[None], v[None], p=2)[0].abs().sum(0)


def tp_fpgm(ctx, g):
    return tp_parts(ctx, g, fpgm_rows, fpgm_rows, None)


def tp_bn(ctx, g):
    return tp_parts(ctx, g, lambda w: None, lambda w: None, lambda gamma: gamma.abs())


def tp_like_folded(ctx, g):
    """The same sum on the folded weights (no BN left)."""
    parts = [l1_rows(ctx["W"][p][0]) for p in g["producers"]]
    n = size(ctx["W"], g)
    parts += [consumer_slices(ctx["W"], c, k, n).abs().sum(1).double() for c, k, _ in g["consumers"]]
    return sum(parts) / len(parts)


SCORES = {
    "producer": producer_l1,
    "producer-consumer": lambda c, g: producer_l1(c, g) * consumer_norm(c, g),
    "consumer": consumer_norm,
    "tp-folded": tp_like_folded,
    "tp-l1": tp_l1,
    "tp-fpgm": tp_fpgm,
    "tp-bn": tp_bn,
}
for src in ("zero", "gauss", "oracle"):
    SCORES[f"e2[{src}]"] = (lambda s: lambda c, g: energy(c, g, s, "sq", 2))(src)
    SCORES[f"e1[{src}]"] = (lambda s: lambda c, g: energy(c, g, s, "abs", 1))(src)
    SCORES[f"var[{src}]"] = (lambda s: lambda c, g: energy(c, g, s, "var", 2))(src)
    SCORES[f"dc[{src}]"] = (lambda s: lambda c, g: energy_dc(c, g, s))(src)


# ---------------------------------------------------------------- evaluation

def masks_for(arch, W, scores, rate):
    masks = {}
    for g, s in zip(GROUPS[arch], scores):
        n = size(W, g)
        keep = np.argsort(-s.numpy(), kind="stable")[:kept(n, rate)]
        m = torch.zeros(n)
        m[torch.as_tensor(keep)] = 1
        for p in g["producers"]:
            masks[p] = m
    return masks


def load_set(folder, arch):
    x_tr, _ = data.read(os.path.join(folder, "train.safetensors"))
    x_te, y_te = data.read(os.path.join(folder, "test.safetensors"))
    x_tr, x_te = torch.as_tensor(x_tr), torch.as_tensor(x_te)
    ctxs = {}
    for task in TASKS:
        W = load_folded(os.path.join(folder, arch, f"{task}.onnx"))
        sd = {k: v.double() for k, v in load_file(os.path.join(folder, arch, f"{task}.safetensors")).items()}
        st = {"oracle": stats(arch, W, x_tr)}
        for src in ("zero", "gauss"):
            st[src] = stats(arch, W, synthetic_inputs(src))
        ctxs[task] = dict(arch=arch, W=W, sd=sd, stats=st, x=x_te, y=torch.as_tensor(y_te[task]))
    return ctxs


def evaluate(arch, ctxs, name, rate):
    """Mean test accuracy over the tasks, each pruned by `name` at `rate`, and the per-task list."""
    accs = []
    for task in TASKS:
        ctx = ctxs[task]
        scores = [SCORES[name](ctx, g) for g in GROUPS[arch]]
        accs.append(accuracy(arch, ctx["W"], ctx["x"], ctx["y"], masks_for(arch, ctx["W"], scores, rate)))
    return float(np.mean(accs)), accs


BASELINES = ("tp-l1", "tp-fpgm", "tp-bn")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", required=True, help="make_tasks.py folders, comma-separated")
    ap.add_argument("--scores", default=",".join(SCORES))
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    ap.add_argument("--archs", default="vgg,resnet")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rates = [float(r) for r in args.rates.split(",")]
    names = [n for n in args.scores.split(",") if n not in BASELINES]
    results = {}
    margins = {n: [] for n in BASELINES + tuple(names)}
    means = {n: [] for n in margins}
    for folder in args.tasks.split(","):
        for arch in args.archs.split(","):
            ctxs = load_set(folder, arch)
            res = results.setdefault(folder, {}).setdefault(arch, {})
            for name in BASELINES + tuple(names):
                res[name] = {str(r): evaluate(arch, ctxs, name, r) for r in rates}
            best = [max(res[b][str(r)][0] for b in BASELINES) for r in rates]
            print(f"{os.path.basename(folder)} {arch:6s} {'best TP':22s} " + " ".join(f"{a:6.2f}" for a in best), flush=True)
            for name in margins:
                row = [res[name][str(r)][0] for r in rates]
                margins[name] += [a - b for a, b in zip(row, best)]
                means[name] += row
                if name in BASELINES:
                    continue
                print(f"{os.path.basename(folder)} {arch:6s} {name:22s} " + " ".join(f"{a:6.2f}" for a in row), flush=True)
    print(f"over {len(next(iter(margins.values())))} cells: score, cells >= best TP, mean margin, worst margin, mean accuracy")
    for name, m in margins.items():
        print(f"  {name:22s} {sum(x >= 0 for x in m):3d}  {np.mean(m):+6.2f}  {min(m):+6.2f}  {np.mean(means[name]):6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


# ---------------------------------------------------------------- candidates under study

def rms(ctx, g, src, what="sq"):
    """Per channel, the root of the statistic at the consumers' taps, averaged over the consumers."""
    st = ctx["stats"][src]
    v = sum(st[tap][what] for _, _, tap in g["consumers"]) / len(g["consumers"])
    return v.clamp(min=0).sqrt()


def producer_l2(ctx, g):
    return sum(ctx["W"][p][0].reshape(ctx["W"][p][0].shape[0], -1).double().pow(2).sum(1) for p in g["producers"]).sqrt()


def random_score(ctx, g, seed):
    return torch.rand(size(ctx["W"], g), generator=torch.Generator().manual_seed(seed * 1000 + len(g["consumers"]) + size(ctx["W"], g)), dtype=torch.float64)


EXTRA = {
    "cons-l2": lambda c, g: consumer_norm(c, g, 2),
    "cons*prod^.5": lambda c, g: consumer_norm(c, g) * producer_l1(c, g).sqrt(),
    "cons*prodl2": lambda c, g: consumer_norm(c, g) * producer_l2(c, g),
    "cons+prod(norm)": lambda c, g: consumer_norm(c, g) / consumer_norm(c, g).mean() + producer_l1(c, g) / producer_l1(c, g).mean(),
    "cons*rms[gauss]": lambda c, g: consumer_norm(c, g) * rms(c, g, "gauss"),
    "cons*std[gauss]": lambda c, g: consumer_norm(c, g) * rms(c, g, "gauss", "var"),
    "cons*rms[zero]": lambda c, g: consumer_norm(c, g) * rms(c, g, "zero"),
    "cons*rms[oracle]": lambda c, g: consumer_norm(c, g) * rms(c, g, "oracle"),
    "cons*std[oracle]": lambda c, g: consumer_norm(c, g) * rms(c, g, "oracle", "var"),
}
for k in range(5):
    EXTRA[f"random{k}"] = (lambda s: lambda c, g: random_score(c, g, s))(k)
SCORES.update(EXTRA)



def prior_stats(ctx, mean, var):
    """Every channel's pre-activation taken to be what BN makes it at initialization, N(0, 1):
    after the ReLU the same mean and variance for every channel at every tap."""
    W = ctx["W"]
    out = {}
    for g in GROUPS[ctx["arch"]]:
        n = size(W, g)
        for _, _, tap in g["consumers"]:
            out[tap] = dict(mean=torch.full((n,), mean, dtype=torch.float64), var=torch.full((n,), var, dtype=torch.float64),
                            sq=torch.full((n,), var + mean * mean, dtype=torch.float64))
    return out


RELU_MEAN, RELU_VAR = (2 * np.pi) ** -0.5, 0.5 - 1 / (2 * np.pi)
for ratio in (0.25, 0.5, 1, 2, 4):
    SCORES[f"dc[prior x{ratio}]"] = (lambda r: lambda c, g: energy_dc(dict(c, stats={"p": prior_stats(c, RELU_MEAN * r ** 0.5, RELU_VAR)}), g, "p"))(ratio)


# NISP-style (Yu et al. 2018): importance propagated back from the logits through |W| (folded), a
# channel's score = Σ over its consumers of |W[o, c]| (summed over the kernel) × the importance of
# the consumer's output channel o; a residual stream passes its importance back through the add.

def back(W, name, s_out, p=1):
    w = W[name][0].double().abs().pow(p)
    if w.dim() == 4:
        return (w.sum((2, 3)) * s_out[:, None]).sum(0)
    return (w * s_out[:, None]).sum(0)


def nisp_taps(arch, W, p=1, head=None):
    s = {}
    if arch == "vgg":
        w = W["head"][0].double().abs().pow(p)
        ho = torch.ones(w.shape[0], dtype=torch.float64) if head is None else head
        s["a4"] = (w * ho[:, None]).sum(0).reshape(64, -1).sum(1) if w.shape[1] == 256 else None
        n = W["features.14"][0].shape[0]
        s["a4"] = (w * ho[:, None]).sum(0).reshape(n, -1).sum(1)
        s["p3"] = back(W, "features.14", s["a4"], p)
        s["a2"] = back(W, "features.10", s["p3"], p)
        s["p1"] = back(W, "features.7", s["a2"], p)
        s["a0"] = back(W, "features.3", s["p1"], p)
        return s
    w = W["head"][0].double().abs().pow(p)
    ho = torch.ones(w.shape[0], dtype=torch.float64) if head is None else head
    s["gap"] = (w * ho[:, None]).sum(0)
    s["r10"] = s["gap"]
    s["r9"] = back(W, "layer3.0.conv2", s["r10"], p)
    s["r8"] = back(W, "layer3.0.conv1", s["r9"], p) + back(W, "layer3.0.downsample.0", s["r10"], p)
    s["r7"] = back(W, "layer2.1.conv2", s["r8"], p)
    s["r6"] = back(W, "layer2.1.conv1", s["r7"], p) + s["r8"]
    s["r5"] = back(W, "layer2.0.conv2", s["r6"], p)
    s["r4"] = back(W, "layer2.0.conv1", s["r5"], p) + back(W, "layer2.0.downsample.0", s["r6"], p)
    s["r3"] = back(W, "layer1.1.conv2", s["r4"], p)
    s["r2"] = back(W, "layer1.1.conv1", s["r3"], p) + s["r4"]
    s["r1"] = back(W, "layer1.0.conv2", s["r2"], p)
    s["r0"] = back(W, "layer1.0.conv1", s["r1"], p) + s["r2"]
    return s


GROUP_TAP = {"vgg": ["a0", "p1", "a2", "p3", "a4"], "resnet": ["r0", "r1", "r3", "r5", "r6", "r7", "r9", "r10"]}


def nisp(ctx, g, p=1):
    key = f"nisp{p}"
    if key not in ctx:
        ctx[key] = nisp_taps(ctx["arch"], ctx["W"], p)
    i = GROUPS[ctx["arch"]].index(g)
    return ctx[key][GROUP_TAP[ctx["arch"]][i]]


SCORES["nisp"] = lambda c, g: nisp(c, g, 1)
SCORES["nisp2"] = lambda c, g: nisp(c, g, 2)


def consumer_normalized(ctx, g, p=1):
    """Each consumer's in-slice norms divided by their mean, then summed (TP's per-layer units)."""
    n = size(ctx["W"], g)
    total = 0
    for c, k, _ in g["consumers"]:
        v = consumer_slices(ctx["W"], c, k, n).abs().pow(p).sum(1).double()
        total = total + v / v.mean()
    return total


SCORES["cons-norm"] = consumer_normalized
for a in (0.25, 0.5, 1.0):
    SCORES[f"cons/prod^{a}"] = (lambda a: lambda c, g: consumer_norm(c, g) / producer_l1(c, g) ** a)(a)


# ---------------------------------------------------------------- mean compensation (study only)

SPATIAL = {"vgg": {"a0": 8, "p1": 4, "a2": 4, "p3": 2}, "resnet": {"r0": 8, "r1": 8, "r2": 8, "r3": 8, "r4": 8,
                                                               "r5": 4, "r6": 4, "r7": 4, "r8": 4, "r9": 2}}


def tap_fraction(k, hw, stride):
    """Per kernel tap (one axis), the fraction of output positions where it lands inside the input."""
    p, outs = k // 2, range(0, hw, stride)
    return np.array([sum(0 <= o - p + t < hw for o in outs) for t in range(k)]) / len(outs)


def kernel_dc(arch, name, w, tap):
    """Per (out, in) channel pair, the consumer's response to a constant input channel, averaged
    over output positions (zero padding counted)."""
    if w.dim() == 2:
        return w.reshape(w.shape[0], -1 if tap != "gap" else w.shape[1], 1).sum(2) if tap == "gap" else None
    k = w.shape[-1]
    stride = 2 if name.endswith(("layer2.0.conv1", "layer3.0.conv1", "downsample.0")) else 1
    f = tap_fraction(k, SPATIAL[arch][tap], stride)
    return (w.double() * torch.as_tensor(np.outer(f, f))).sum((2, 3))


def compensated(arch, W, masks, means):
    """W with each consumer's bias taking over the mean of the channels the masks remove."""
    out = dict(W)
    for g in GROUPS[arch]:
        m = masks[g["producers"][0]].double()
        for c, kind, tap in g["consumers"]:
            w, b = out[c]
            removed = (1 - m) * means[tap]
            if kind == "conv":
                dc = kernel_dc(arch, c, w, tap)
            elif kind == "flat4":
                dc = w.double().reshape(w.shape[0], m.numel(), -1).sum(2)
            else:
                dc = w.double()
            out[c] = (w, b + (dc @ removed).to(b.dtype))
    return out


def tap_levels(arch, W):
    """Data-free: per tap, the common mean of its channels, from the consumers' folded biases
    (b' = β − Σ W'·E[x] with β taken as 0), least squares over the consumer's output channels."""
    levels = {}
    for g in GROUPS[arch]:
        for c, kind, tap in g["consumers"]:
            if kind != "conv" or tap in levels:
                continue
            w, b = W[c]
            dc = kernel_dc(arch, c, w, tap)
            d = dc.sum(1)
            levels[tap] = float(-(d * b.double()).sum() / (d * d).sum())
    return levels


def own_gamma(ctx, g):
    """Mean |γ| of the channel's BNs (known only when the export keeps BN)."""
    return sum(ctx["sd"][bn_of(p) + ".weight"].abs() for p in g["producers"]) / len(g["producers"])


SCORES["cons*gamma"] = lambda c, g: consumer_norm(c, g) * own_gamma(c, g)


def consumer_unfolded(ctx, g):
    """Consumer L1 on the torch weights (a kept-BN export read without folding the consumer's BN)."""
    n = size(ctx["W"], g)
    return sum(consumer_slices({c: (ctx["sd"][c + ".weight"], None)}, c, k, n).abs().sum(1) for c, k, _ in g["consumers"])


SCORES["cons-unfolded"] = consumer_unfolded


def fpgm_l2(rows):
    """Σ_j ‖w_i − w_j‖₂: what `IrreplaceabilityCriterion.fpgm` computes on a group's rows."""
    return torch.cdist(rows[None], rows[None], p=2)[0].sum(0)


SCORES["fpgm-producer"] = lambda c, g: fpgm_l2(torch.cat([c["W"][p][0].reshape(size(c["W"], g), -1).double() for p in g["producers"]], 1))
SCORES["fpgm-consumer"] = lambda c, g: fpgm_l2(torch.cat([consumer_slices(c["W"], n, k, size(c["W"], g)).double() for n, k, _ in g["consumers"]], 1))

SCORES["fpgm-both"] = lambda c, g: fpgm_l2(torch.cat([c["W"][p][0].reshape(size(c["W"], g), -1).double() for p in g["producers"]]
                                                    + [consumer_slices(c["W"], n, k, size(c["W"], g)).double() for n, k, _ in g["consumers"]], 1))
SCORES["cons+fpgm-cons"] = lambda c, g: (lambda a, b: a / a.sum() + b / b.sum())(consumer_norm(c, g), SCORES["fpgm-consumer"](c, g))
SCORES["cons+fpgm-prod"] = lambda c, g: (lambda a, b: a / a.sum() + b / b.sum())(consumer_norm(c, g), SCORES["fpgm-producer"](c, g))


if __name__ == "__main__":
    main()

"""Channel scores for criterion_study.py: each `SCORES[name](ctx, group)` gives one score per channel
of a group (higher = keep), from the folded ONNX weights `ctx["W"]` (what `pruned` sees), except
the `tp-*` reimplementations of Torch-Pruning's importances (the torch weights `ctx["sd"]`, as
Torch-Pruning reads them) and the scores over `ctx["stats"]["oracle"]` (the training inputs'
activations: a ceiling with data, not a candidate)."""
import numpy as np
import torch

from folded_nets import GROUPS, consumer_slices, size

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

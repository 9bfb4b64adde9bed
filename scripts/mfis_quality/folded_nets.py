"""The two task architectures of models.py run from the weights of their BN-folded ONNX exports,
with masks that zero a producer's output channels (what `pruned prune`'s surgery does to every
consumer's input) and taps on the activations each consumer reads. Shared by the criterion
studies (criterion_study.py, criterion_scores.py, criterion_compensation.py, pipeline_study.py).
"""
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

import data

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

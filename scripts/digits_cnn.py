"""Shared by check_training.py, check_prune_with_data.py and Benchmarks/bench_training.py:
scikit-learn's digits as data files, a small CNN with BN, its ONNX exports, our batch order
reimplemented, a PyTorch training loop with our recipe, and onnxruntime scoring.

Exports: `export_bn_kept` uses the dynamo exporter with `optimize=False` (BatchNormalization
stays a node, momentum 0.9 = PyTorch's 0.1, so `pruned` trains BN as PyTorch does; the
optimizer pass would fold it); `export_bn_folded` uses the legacy TorchScript exporter in eval
mode, which folds BN into the convs (what most exported models look like).
"""
import json
import math
import os
import subprocess
import time

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRUNED = os.path.join(ROOT, ".build", "release", "pruned")
MASK = (1 << 64) - 1


def digits(upsample=1, test_fraction=0.2, seed=0):
    """Train and test arrays: N×1×(8·upsample)² float32 standardized with the train statistics."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = d.images.astype(np.float32)[:, None]
    if upsample > 1:
        x = x.repeat(upsample, axis=2).repeat(upsample, axis=3)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(), x[train].std()
    x = (x - mean) / std
    return (x[train], y[train]), (x[test], y[test])


def write_data(path, x, y=None):
    tensors = {"input": np.ascontiguousarray(x, dtype=np.float32)}
    if y is not None:
        tensors["label"] = np.ascontiguousarray(y, dtype=np.int64)
    save_file(tensors, path)


class SmallCNN(nn.Module):
    """conv-BN-ReLU ×3 with two max pools, flatten into one linear layer."""

    def __init__(self, size=8, width=16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(2 * width * (size // 4) ** 2, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def export_bn_kept(model, size, path):
    model.eval()
    x = torch.zeros(2, 1, size, size)
    torch.onnx.export(model, (x,), path, dynamo=True, optimize=False, external_data=False,
                      input_names=["input"], output_names=["logits"],
                      dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, verbose=False)


def export_bn_folded(model, size, path):
    model.eval()
    torch.onnx.export(model, (torch.zeros(1, 1, size, size),), path, dynamo=False, opset_version=17,
                      input_names=["input"], output_names=["logits"])


# Our batch order (BatchOrder.shuffled): xoshiro256** seeded through SplitMix64, Fisher–Yates
# with Lemire's bounded integers, reimplemented so PyTorch can see the same batches.
def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256StarStar:
    def __init__(self, seed):
        state, self.s = seed & MASK, []
        for _ in range(4):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))

    def next(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, bound):
        m = self.next() * bound
        if (m & MASK) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (m & MASK) < threshold:
                m = self.next() * bound
        return m >> 64

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]


def batch_order(indices, size, seed, epoch):
    order = list(indices)
    Xoshiro256StarStar(seed ^ (((epoch + 1) * 0x9E3779B97F4A7C15) & MASK)).shuffle(order)
    return [order[i:i + size] for i in range(0, len(order), size)]


def torch_train(model, x, y, epochs, lr, batch_size, momentum=0.9, weight_decay=5e-4, seed=0, same_order=True):
    """Our recipe in PyTorch: SGD(momentum, weight_decay) under a per-batch cosine schedule.
    Returns (per-epoch mean loss, per-epoch seconds)."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(x)
    steps = epochs * math.ceil(n / batch_size)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps)))
    gen = torch.Generator().manual_seed(seed)
    losses, seconds = [], []
    model.train()
    for epoch in range(epochs):
        batches = batch_order(range(n), batch_size, seed, epoch) if same_order else \
            torch.randperm(n, generator=gen).split(batch_size)
        start, total = time.perf_counter(), 0.0
        for b in batches:
            b = torch.as_tensor(b)
            loss = F.cross_entropy(model(xt[b]), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
        seconds.append(time.perf_counter() - start)
        losses.append(total / n)
    return losses, seconds


def torch_accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def ort_logits(path, x, batch=None):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    if batch is None:
        return session.run(None, {name: x})[0]
    return np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def ort_accuracy(path, x, y, one_by_one=False):
    return float((ort_logits(path, x, 1 if one_by_one else None).argmax(1) == y).mean())


def pruned(*args):
    """Runs our CLI, returns stdout; raises with its stderr on failure."""
    done = subprocess.run([PRUNED, *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pruned {' '.join(map(str, args))} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def pruned_train(model, data, out, epochs, lr, batch_size, seed=0, report=None):
    report = report or out + ".json"
    pruned("train", model, "--data", data, "--epochs", epochs, "--lr", lr, "--batch-size", batch_size,
           "--holdout", 0, "--seed", seed, "--out", out, "--report", report)
    with open(report) as f:
        return json.load(f)

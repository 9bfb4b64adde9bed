"""Training, evaluation and BN recalibration in torch (task models and the baselines)."""
import math

import numpy as np
import torch
import torch.nn as nn

from config import FT_BATCH_SIZE, FT_EPOCHS, FT_LR, FT_MOMENTUM, FT_WEIGHT_DECAY


def setup(threads=1):
    # One thread: on a shared 2-core machine, two torch threads run 5-10x slower than one.
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def train(model, x, y, epochs, lr, seed, momentum=FT_MOMENTUM, weight_decay=FT_WEIGHT_DECAY,
          batch_size=FT_BATCH_SIZE):
    """SGD with momentum and weight decay, cosine over epochs (epoch e: lr * (1 + cos(pi e / E)) / 2),
    a fresh seeded shuffle per epoch, the last partial batch kept."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for e in range(epochs):
        for group in opt.param_groups:
            group["lr"] = lr * (1 + math.cos(math.pi * e / epochs)) / 2
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    return model


def finetune(model, x, y, seed):
    """Setting (c): the shared budget of config.py."""
    return train(model, x, y, FT_EPOCHS, FT_LR, seed)


@torch.no_grad()
def recalibrate_bn(model, x, batch_size=FT_BATCH_SIZE):
    """Setting (b): running statistics re-estimated on the data (cumulative average), no gradients."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    x = torch.as_tensor(x)
    for i in range(0, len(x), batch_size):
        model(x[i:i + batch_size])
    model.eval()
    for m in bns:
        m.momentum = 0.1
    return model


@torch.no_grad()
def accuracy(model, x, y):
    """Top-1 test accuracy in percent."""
    model.eval()
    pred = model(torch.as_tensor(x)).argmax(1).numpy()
    return 100.0 * float(np.mean(pred == np.asarray(y)))

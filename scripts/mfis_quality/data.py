"""scikit-learn's digits as the task data: 8x8 grayscale at its own size, a fixed stratified split.

The preprocessing (x / 16, standardized by the training split's mean and std) is baked into the
safetensors files, so the CLI and onnxruntime see exactly what torch saw. (Upsampling to 16x16
costs 2-4x the compute of every training run and is not needed: the nets reach ~99% at 8x8.)
"""
import numpy as np
from safetensors.numpy import load_file, save_file

from config import SEED, TASKS, task_label

SIZE = 8
TEST_FRACTION = 0.3


def load_split():
    """(x_train, d_train, x_test, d_test): x float32 N x 1 x 8 x 8, d the digit (int64)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = digits.images.astype(np.float32) / 16.0
    x = x[:, None]
    d = digits.target.astype(np.int64)
    x_tr, x_te, d_tr, d_te = train_test_split(x, d, test_size=TEST_FRACTION, random_state=SEED, stratify=d)
    mean, std = x_tr.mean(), x_tr.std()
    norm = lambda a: np.ascontiguousarray((a - mean) / std, dtype=np.float32)
    return norm(x_tr), d_tr, norm(x_te), d_te


def tensors(x, d):
    """The data file's tensors: `input`, `label.<task>` per task, `label` (= the digit)."""
    out = {"input": x, "label": d.copy()}
    for t in TASKS:
        out[f"label.{t}"] = np.ascontiguousarray(task_label(t, d), dtype=np.int64)
    return out


def write(path, x, d):
    save_file(tensors(x, d), path)


def read(path):
    """(input, {task: labels})."""
    f = load_file(path)
    return f["input"], {t: f[f"label.{t}"] for t in TASKS}


def write_single_task(path, src, task):
    """A copy of the data file whose `label` is the one task's (for single-model runs)."""
    f = load_file(src)
    save_file({"input": f["input"], "label": f[f"label.{task}"], f"label.{task}": f[f"label.{task}"]}, path)

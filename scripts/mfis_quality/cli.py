"""Driving `pruned prune`: which features the binary has (from its --help), the command for a
setting, and a run that falls back to what the binary can do.

Modes, recorded with every result so that no figure is mistaken for another:
  multitask        one call with all task models, and DIR/multitask.safetensors came out (MFIS)
  independent      one call with all task models, no bundle: each model pruned on its own
  one-at-a-time    one call per model (the binary refused several models)
"""
import os
import re
import subprocess
import time

from config import FT_BATCH_SIZE, FT_LR, FT_MOMENTUM, FT_WEIGHT_DECAY, SEED
import data

# Flag -> value for the fine-tuning budget; each is passed only when the binary has the flag.
BUDGET_FLAGS = {"--lr": FT_LR, "--batch-size": FT_BATCH_SIZE, "--weight-decay": FT_WEIGHT_DECAY,
                "--momentum": FT_MOMENTUM}


def features(binary):
    """What `pruned prune --help` offers: the set of its flags, and whether `--rate adaptive` is named."""
    p = subprocess.run([binary, "prune", "--help"], capture_output=True, text=True)
    text = p.stdout + p.stderr
    flags = sorted(set(re.findall(r"(--[a-z][a-z0-9-]*)", text)) - {"--help"})
    return {"flags": flags, "data": "--data" in flags, "finetune": "--finetune-epochs" in flags,
            "seed": "--seed" in flags, "adaptive": "adaptive" in text,
            "multitask_help": bool(re.search(r"multi-?task|shar", text, re.I))}


def options(feat, rate, data_file=None, epochs=None, seed=SEED):
    """The flags for one setting: (a) rate only; (b) data, 0 epochs; (c) data, E epochs and the budget;
    `--seed seed` when the binary has the flag.
    Returns (flags, missing) where missing names what the setting wanted but the binary lacks."""
    flags, missing = ["--rate", str(rate)], []
    if feat["seed"]:
        flags += ["--seed", str(seed)]
    if data_file is None:
        return flags, missing
    if not feat["data"]:
        return None, ["--data"]
    flags += ["--data", data_file]
    if "--holdout" in feat["flags"]:
        # Torch-Pruning's side recalibrates and trains on all of train.safetensors; so do we
        # (by default `pruned` holds 10% out to score on).
        flags += ["--holdout", "0"]
    if epochs is not None:
        if feat["finetune"]:
            flags += ["--finetune-epochs", str(epochs)]
        elif epochs > 0:
            return None, ["--finetune-epochs"]
        if epochs > 0:
            for flag, value in BUDGET_FLAGS.items():
                if flag in feat["flags"]:
                    flags += [flag, str(value)]
                else:
                    missing.append(flag)
    return flags, missing


def _call(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p, time.perf_counter() - t


def prune(binary, model_paths, flags, out, data_file=None, scratch=None):
    """Runs the job; returns {mode, commands, seconds, error?}. With a refusal of several models
    (usage error, exit 64), runs one model at a time, each with a data file whose `label` is its task's."""
    os.makedirs(out, exist_ok=True)
    cmd = [binary, "prune", *model_paths, *flags, "--out", out]
    p, seconds = _call(cmd)
    if p.returncode == 0:
        mode = "multitask" if os.path.exists(os.path.join(out, "multitask.safetensors")) else "independent"
        return {"mode": mode, "commands": [cmd], "seconds": seconds}
    if p.returncode != 64 or len(model_paths) == 1:
        return {"mode": "failed", "commands": [cmd], "seconds": seconds, "error": p.stderr.strip()[-2000:]}
    result = {"mode": "one-at-a-time", "commands": [], "seconds": 0.0,
              "multi_model_error": p.stderr.strip()[-500:]}
    for path in model_paths:
        task = os.path.splitext(os.path.basename(path))[0]
        task_flags = list(flags)
        if data_file is not None:
            single = os.path.join(scratch or out, f"data.{task}.safetensors")
            data.write_single_task(single, data_file, task)
            task_flags[task_flags.index("--data") + 1] = single
        sub = os.path.join(out, f"_{task}")
        cmd = [binary, "prune", path, *task_flags, "--out", sub]
        p, seconds = _call(cmd)
        result["commands"].append(cmd)
        result["seconds"] += seconds
        if p.returncode != 0:
            result.update(mode="failed", error=p.stderr.strip()[-2000:])
            return result
        for name in os.listdir(sub):  # DIR/<task>.onnx as a multi-model call would have it
            target = name if name != "report.json" else f"report.{task}.json"
            os.replace(os.path.join(sub, name), os.path.join(out, target))
        os.rmdir(sub)
    return result

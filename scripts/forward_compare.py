"""Running a model both ways, for the check scripts: our forward (`pruned run`) and onnxruntime's."""
import os
import subprocess

import onnxruntime as ort
from safetensors.numpy import load_file, save_file


def run(cmd):
    """Runs a command; raises with its stderr when it fails. Returns its stdout."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def ours(pruned, model, x, work, input_name="input"):
    """The model's first output from `pruned run` on x (inputs and outputs pass through files in work)."""
    save_file({input_name: x}, os.path.join(work, "x.safetensors"))
    run([pruned, "run", model, "--input", os.path.join(work, "x.safetensors"), "--out", os.path.join(work, "y.safetensors")])
    outputs = load_file(os.path.join(work, "y.safetensors"))
    first = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).get_outputs()[0].name
    return outputs[first]


def theirs(model, x):
    """The model's first output from onnxruntime on x (its first input)."""
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]

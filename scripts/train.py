#!/usr/bin/env python3
"""A training loop for onnxloss step models in ONNX Runtime (Python).

    .venv/bin/python scripts/train.py STEP.onnx [--init STEP.init.onnx] --batches BATCHES.npz
        [--steps N] [--lr LR] [-o PARAMS.npz|PARAMS.safetensors] [--threads T]

BATCHES.npz holds one array per data input of the step model (e.g. x, labels) whose
first axis indexes the batch: step i feeds array[i % count]. The loop runs the init
model once for the starting state, then each step feeds the batch and the state and
takes every X_next output back as X (lr is kept, or set by --lr). It prints
"step I loss L" per step and writes the trained parameters (keys = initializer
names) for `onnxloss load-params`. Needs numpy and onnxruntime (and safetensors
for a .safetensors output); scripts/install-refs.sh puts them in .venv.
"""
import argparse
import sys
import time

import numpy as np
import onnxruntime as ort

STATE_SUFFIXES = ("momentum", "exp_avg", "exp_avg_sq")


def param_names(state_names):
    """The init model's outputs that are parameters, not optimizer state."""
    params = []
    for x in state_names:
        if x in ("lr", "step"):
            continue
        if any(x == f"{p}_{s}" for p in params for s in STATE_SUFFIXES):
            continue
        params.append(x)
    return params


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step")
    ap.add_argument("--init")
    ap.add_argument("--batches", required=True)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--lr", type=float)
    ap.add_argument("-o", "--out")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    if a.lr is not None and not (a.lr > 0 and np.isfinite(a.lr)):
        ap.error("--lr must be a finite number > 0")
    init_path = a.init or (a.step[:-5] if a.step.endswith(".onnx") else a.step) + ".init.onnx"
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = a.threads
    opts.inter_op_num_threads = 1

    batches = dict(np.load(a.batches))
    if not batches:
        ap.error(f"{a.batches} holds no arrays")
    counts = {k: v.shape[0] if v.ndim else None for k, v in batches.items()}
    count = next(iter(counts.values()))
    if any(c != count for c in counts.values()) or count is None:
        ap.error(f"{a.batches}: every array's first axis must count the batches (shapes: {counts})")
    steps = a.steps or count

    init = ort.InferenceSession(init_path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in init.get_outputs()]
    state = dict(zip(names, init.run(None, {})))
    if a.lr is not None:
        state["lr"] = np.array(a.lr, dtype=state["lr"].dtype)
    sess = ort.InferenceSession(a.step, opts, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in sess.get_inputs()]
    outputs = [o.name for o in sess.get_outputs()]
    for n in inputs:
        if n not in state and n not in batches:
            ap.error(f"the step model's input {n!r} is neither in the init model nor in {a.batches}")
    carried = [x for x in names if x != "lr"]
    for x in carried:
        if x + "_next" not in outputs:
            ap.error(f"the step model has no output {x}_next")

    t0 = time.perf_counter()
    for i in range(steps):
        feeds = {n: (np.asarray(batches[n][i % count]) if n in batches else state[n]) for n in inputs}
        res = dict(zip(outputs, sess.run(outputs, feeds)))
        print(f"step {i + 1} loss {float(res[outputs[0]])!r}", flush=True)
        for x in carried:
            state[x] = res[x + "_next"]
    print(f"{steps} steps in {time.perf_counter() - t0:.3f} s", file=sys.stderr)

    if a.out:
        params = {p: np.array(state[p], order="C") for p in param_names(names)}  # 0-d stays 0-d
        if a.out.endswith(".safetensors"):
            from safetensors.numpy import save_file
            save_file(params, a.out)
        elif a.out.endswith(".npz"):
            np.savez(a.out, **params)
        else:
            ap.error("-o must end in .npz or .safetensors")
        print(f"wrote {len(params)} parameters to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

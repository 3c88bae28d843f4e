#!/usr/bin/env python3
"""Long-tailed demonstration: do the balanced losses help the tail classes?

    scripts/demo-longtail.sh      # builds onnxloss, runs this with .venv's Python, draws the plot

A synthetic 10-class problem with training counts 5000·0.5^k (5000 … 10) and a
balanced test set (500 per class): 16-D Gaussian classes around seeded random
centres. A small MLP (16-64-10, torch.onnx.export, seeded) gets each loss with
`onnxloss inject`, an AdamW step model with `onnxloss step`, and is trained in ONNX
Runtime by scripts/train.py — the same seeded minibatches and number of steps for
every loss — then written back with `onnxloss load-params` and evaluated in ONNX
Runtime on the test set. Writes a JSON of the accuracies (docs/longtail.json) and
prints the Markdown table the README shows.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
C, D, HIDDEN = 10, 16, 64
COUNTS = [int(5000 * 0.5 ** k) for k in range(C)]  # 5000, 2500, …, 9
LOSSES = [
    ("weighted_ce", ["--weighting", "none"], "cross-entropy (no weights)"),
    ("cb_focal", [], "Class-Balanced focal (β 0.9999, γ 2)"),
    ("balanced_softmax", [], "Balanced Softmax"),
    ("ldam", ["--scale", "5"], "LDAM (max margin 0.5, scale 5)"),
]


def data(rng):
    centres = rng.standard_normal((C, D)) * 0.75
    def draw(counts):
        xs = [centres[k] + rng.standard_normal((n, D)) for k, n in enumerate(counts)]
        ys = [np.full(n, k, dtype=np.int64) for k, n in enumerate(counts)]
        return np.concatenate(xs).astype(np.float32), np.concatenate(ys)
    return draw(COUNTS), draw([500] * C)


def export_mlp(path):
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(D, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, C))
    torch.onnx.export(mlp, torch.zeros(1, D), path, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnxloss", required=True, help="the onnxloss binary")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--json", default=os.path.join(ROOT, "docs", "longtail.json"))
    a = ap.parse_args()
    rng = np.random.default_rng(2024)
    (xtr, ytr), (xte, yte) = data(rng)
    work = tempfile.mkdtemp(prefix="onnxloss-longtail-")
    mlp = os.path.join(work, "mlp.onnx")
    export_mlp(mlp)
    with open(os.path.join(work, "counts.json"), "w") as f:
        json.dump(COUNTS, f)
    # The same seeded minibatches for every loss: uniform sampling of the
    # long-tailed training set, as a plain DataLoader with shuffle does.
    order = rng.integers(0, len(ytr), size=(a.steps, a.batch))
    batches = os.path.join(work, "batches.npz")
    np.savez(batches, x=xtr[order], labels=ytr[order])

    results = {"counts": COUNTS, "steps": a.steps, "batch": a.batch, "lr": a.lr, "optimizer": "adamw", "losses": []}
    for loss, flags, label in LOSSES:
        train = os.path.join(work, f"{loss}.train.onnx")
        step = os.path.join(work, f"{loss}.step.onnx")
        params = os.path.join(work, f"{loss}.params.npz")
        trained = os.path.join(work, f"{loss}.trained.onnx")
        run([a.onnxloss, "inject", "--loss", loss, "--counts", os.path.join(work, "counts.json"), *flags, "-o", train, mlp])
        run([a.onnxloss, "step", "--optimizer", "adamw", "--lr", str(a.lr), "-o", step, train])
        r = run([sys.executable, os.path.join(HERE, "train.py"), step, "--batches", batches, "--steps", str(a.steps), "-o", params])
        last = [float(l.split()[3]) for l in r.stdout.strip().splitlines()[-50:]]
        run([a.onnxloss, "load-params", mlp, params, "-o", trained])
        sess = ort.InferenceSession(trained, providers=["CPUExecutionProvider"])
        pred = sess.run(["logits"], {"x": xte})[0].argmax(1)
        recall = [float((pred[yte == k] == k).mean()) for k in range(C)]
        results["losses"].append({"loss": loss, "label": label, "flags": flags, "accuracy": float((pred == yte).mean()),
                                  "recall": recall, "final_train_loss_mean50": float(np.mean(last))})
        print(f"{loss}: accuracy {results['losses'][-1]['accuracy']:.3f}", file=sys.stderr)
    with open(a.json, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")

    head = "| loss | overall | " + " | ".join(f"class {k} ({n})" for k, n in enumerate(COUNTS)) + " | tail 5–9 |"
    print(head)
    print("|---" * (C + 3) + "|")
    for r in results["losses"]:
        tail = np.mean(r["recall"][5:])
        print(f"| {r['loss']} | {r['accuracy']:.3f} | " + " | ".join(f"{v:.2f}" for v in r["recall"]) + f" | {tail:.3f} |")


if __name__ == "__main__":
    main()

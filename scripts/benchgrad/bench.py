#!/usr/bin/python3
"""Gradient benchmark helper (see scripts/bench-grad.sh).

    bench.py prepare DIR        export mobilenet_v3_small, write batches
    bench.py torch DIR MODEL N  time N forward + loss.backward() passes

The torch side runs the same module (weights loaded from the ONNX file) on
the same batch with F.cross_entropy(weight=w) -- the loss `onnxloss inject
--loss weighted_ce` builds -- one thread, like the ONNX Runtime side.
"""
import json
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "testdata", "models"))
import gen_models as M  # noqa: E402

BATCH = {"cnn": (64, [1, 12, 12], 10), "mbv3": (8, [3, 224, 224], 10)}


def module(name):
    torch.manual_seed(0)
    if name == "cnn":
        return M.SmallCNN(10)
    return torchvision.models.mobilenet_v3_small(weights=None, num_classes=10)


def onnx_path(d, name):
    return os.path.join(ROOT, "testdata", "models", "cnn_o17.onnx") if name == "cnn" else os.path.join(d, "mbv3_small_o17.onnx")


def prepare(d):
    m = module("mbv3").eval()
    n, shape, _ = BATCH["mbv3"]
    torch.onnx.export(m, (torch.zeros([n] + shape),), onnx_path(d, "mbv3"), input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}}, opset_version=17)
    for name, (n, shape, c) in BATCH.items():
        g = torch.Generator().manual_seed(7)
        x = torch.randn([n] + shape, generator=g)
        y = torch.randint(0, c, [n], generator=g)
        counts = [int(1000 * 0.05 ** (i / (c - 1))) for i in range(c)]
        with open(os.path.join(d, name + ".json"), "w") as f:
            json.dump({"image": {"dtype": "float32", "dims": list(x.shape), "data": x.reshape(-1).tolist()},
                       "labels": {"dtype": "int64", "dims": list(y.shape), "data": y.tolist()},
                       "counts": counts}, f)
        with open(os.path.join(d, name + ".counts.json"), "w") as f:
            json.dump(counts, f)


def run_torch(d, name, iters):
    torch.set_num_threads(1)
    m = module(name)
    init = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in onnx.load(onnx_path(d, name)).graph.initializer}
    sd = m.state_dict()
    for k in sd:
        if k in init:
            sd[k] = init[k]
    m.load_state_dict(sd)
    m.eval()  # the exported graph: BatchNorm folded/inference, no dropout
    b = json.load(open(os.path.join(d, name + ".json")))
    x = torch.tensor(b["image"]["data"], dtype=torch.float32).reshape(b["image"]["dims"])
    y = torch.tensor(b["labels"]["data"])
    counts = torch.tensor(b["counts"], dtype=torch.float64)
    w = 1 / counts
    w = (w * len(w) / w.sum()).float()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        m.zero_grad()
        loss = F.cross_entropy(m(x), y, weight=w)
        loss.backward()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"runner": "torch", "loss": float(loss), "median_ms": 1000 * float(np.median(times[1:] or times))}))


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    else:
        run_torch(sys.argv[2], sys.argv[3], int(sys.argv[4]))

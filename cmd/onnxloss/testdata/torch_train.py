"""PyTorch reference for the step-model trajectory tests (Debian's /usr/bin/python3,
torch 1.13). Reads a JSON list of cases on stdin; for each: the torch module of
testdata/models/gen_models.py with its parameters loaded from the ONNX model's
initializers, the loss (F.cross_entropy with the class weights, or the
Class-Balanced focal loss of Cui et al. as scripts/gen-goldens.py computes it),
torch.optim.SGD/AdamW, `steps` steps over the batches in the .npz (array[i] per
step). Writes a JSON list: per-step losses, final parameters, and the trained
module's logits on the eval input.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


models = load("gen_models", "testdata/models/gen_models.py")
goldens = load("gen_goldens", "scripts/gen-goldens.py")

MODULES = {
    "mlp_o13": lambda: models.MLP(16, 32, 5),
    "cnn_o17": lambda: models.SmallCNN(10),
    "segnet_o13": lambda: models.SegNet(),
    "train_mlp_ce_o13": lambda: models.TrainCE(),
    "train_cnn_ce_o17": lambda: models.TrainCNNCE(),
}


def module_for(case):
    m = MODULES[case["module"]]()
    if case["dtype"] == "float64":
        m = m.double()
    onnx_model = onnx.load(case["onnx"])
    state = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in onnx_model.graph.initializer}
    params = dict(m.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(state[name].to(p.dtype))
    return m, params


def logits_of(m, x):
    return m.logits(x) if hasattr(m, "logits") else m(x)


def loss_of(case, logits, y):
    w = case.get("weights")
    wt = None if w is None else torch.tensor(w, dtype=torch.float64).to(logits.dtype)
    if case["loss"] == "weighted_ce":
        return F.cross_entropy(logits, y, weight=wt)
    if case["loss"] == "cb_focal":
        C = logits.shape[1]
        t = goldens.one_hot_axis1(y, C).to(logits.dtype)
        bce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
        mod = torch.exp(-case["gamma"] * (t * logits + goldens.softplus(-logits)))
        l = wt[y] * (mod * bce).sum(1)
        return l.sum() / l.numel()
    if case["loss"] == "balanced_softmax":
        # Ren et al. 2020: cross-entropy of the logits plus log of the class counts
        n = torch.tensor(case["counts"], dtype=torch.float64).to(logits.dtype)
        return F.cross_entropy(logits + torch.log(n), y)
    raise ValueError(case["loss"])


def run(case):
    torch.manual_seed(0)
    m, params = module_for(case)
    dt = torch.float64 if case["dtype"] == "float64" else torch.float32
    batches = np.load(case["batches"])
    x_all = torch.from_numpy(batches[case["x"]]).to(dt)
    y_all = torch.from_numpy(batches[case["y"]])
    s = case["settings"]
    plist = list(params.values())
    if case["optimizer"] == "sgd":
        opt = torch.optim.SGD(plist, lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"])
    else:
        opt = torch.optim.AdamW(plist, lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"], weight_decay=s["weight_decay"])
    losses = []
    for i in range(case["steps"]):
        k = i % x_all.shape[0]
        opt.zero_grad()
        loss = loss_of(case, logits_of(m, x_all[k]), y_all[k])
        loss.backward()
        opt.step()
        losses.append(float(loss))
    if not case.get("eval"):
        return {"losses": losses, "params": {n: p.detach().double().reshape(-1).tolist() for n, p in params.items()}, "logits": []}
    ev = np.load(case["eval"])
    with torch.no_grad():
        logits = logits_of(m, torch.from_numpy(ev[case["x"]]).to(dt))
    return {
        "losses": losses,
        "params": {n: p.detach().double().reshape(-1).tolist() for n, p in params.items()},
        "logits": logits.double().reshape(-1).tolist(),
    }


torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)
json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)

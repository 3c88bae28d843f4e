"""torch.optim reference for optim's tests (Debian's /usr/bin/python3, torch 1.13).

Reads a JSON list on stdin, each {"optimizer": "sgd"|"adamw", "settings": {...}, "params":
{name: {"dtype", "dims", "data"}}, "order": [names], "grads": [{name: tensor}, ...]}.
Each step: loss = sum_p sum(p * G_p) (its gradient w.r.t. p is G_p), p.grad = G_p,
optimizer.step(). Writes a list of {"losses": [...], "params": {name: flat list}}.
"""
import json
import sys

import torch

dt = {"float32": torch.float32, "float64": torch.float64}


def run(spec):
    params = {}
    for name in spec["order"]:
        t = spec["params"][name]
        params[name] = torch.tensor(t["data"], dtype=dt[t["dtype"]]).reshape(t["dims"]).requires_grad_(True)
    s = spec["settings"]
    plist = [params[n] for n in spec["order"]]
    if spec["optimizer"] == "sgd":
        opt = torch.optim.SGD(plist, lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"])
    elif spec["optimizer"] == "adamw":
        opt = torch.optim.AdamW(plist, lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"], weight_decay=s["weight_decay"])
    else:
        raise SystemExit("unknown optimizer " + spec["optimizer"])
    losses = []
    for step in spec["grads"]:
        with torch.no_grad():
            loss = sum((p.double() * torch.tensor(step[n]["data"], dtype=torch.float64).reshape(p.shape)).sum() for n, p in params.items())
        losses.append(float(loss))
        opt.zero_grad()
        for n, p in params.items():
            p.grad = torch.tensor(step[n]["data"], dtype=p.dtype).reshape(p.shape)
        opt.step()
    return {"losses": losses, "params": {n: p.detach().reshape(-1).double().tolist() for n, p in params.items()}}


json.dump([run(spec) for spec in json.load(sys.stdin)], sys.stdout)

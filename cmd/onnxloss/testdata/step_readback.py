"""Reads a step model (and its init model) back with onnx, and builds the
torch.optim param group for the given hyperparameters, for step_json_test.go.

usage: step_readback.py STEP.onnx [INIT.onnx|-] [OPTIMIZER HYPERPARAMS_JSON]
Prints one JSON document: the step model's inputs, outputs (name and static
shape), initializer names and node count, the init model's outputs, and the
torch param group's entries for the hyperparameter keys.
"""
import json
import sys

import onnx


def shape(vi):
    return [d.dim_value for d in vi.type.tensor_type.shape.dim]


def main():
    step = onnx.load(sys.argv[1])
    onnx.checker.check_model(step)
    g = step.graph
    out = {
        "inputs": [{"name": i.name, "shape": shape(i)} for i in g.input],
        "outputs": [{"name": o.name, "shape": shape(o)} for o in g.output],
        "initializers": [t.name for t in g.initializer],
        "nodes": len(g.node),
    }
    if len(sys.argv) > 2 and sys.argv[2] != "-":
        init = onnx.load(sys.argv[2])
        onnx.checker.check_model(init)
        out["init_outputs"] = [o.name for o in init.graph.output]
    if len(sys.argv) > 4:
        import torch

        hp = json.loads(sys.argv[4])
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in hp.items()}
        cls = {"adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[sys.argv[3]]
        group = cls([torch.zeros(1, requires_grad=True)], **kwargs).param_groups[0]
        # torch fills every key the optimizer has; keep the report's keys.
        out["torch_group"] = {k: list(group[k]) if isinstance(group[k], tuple) else group[k] for k in hp}
        # torch's defaults for the keys the report shows, to check that the
        # flags' defaults match the constructor's.
        default = cls([torch.zeros(1, requires_grad=True)], lr=hp["lr"]).param_groups[0]
        out["torch_defaults"] = {k: list(default[k]) if isinstance(default[k], tuple) else default[k] for k in hp}
    json.dump(out, sys.stdout)


main()

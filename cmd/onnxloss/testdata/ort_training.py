"""ONNX Runtime's own training (onnxruntime-training-cpu 1.19.2, .venv-training) on
an onnxloss-injected model: generate_artifacts(model, requires_grad=the model's own
parameters, frozen_params=onnxloss's initializers, loss=None, optimizer=AdamW),
then the training API for one step on one batch. argv: model.onnx batch.npz outdir lr.
Writes outdir/ort_training.npz: loss, <p>_grad (first-step gradients) and <p>_next
(parameters after the optimizer step).
"""
import os
import sys

import numpy as np
import onnx
from onnxruntime.training import artifacts
from onnxruntime.training.api import CheckpointState, Module, Optimizer

model_path, batch_path, out, lr = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
os.makedirs(out, exist_ok=True)
model = onnx.load(model_path)
names = [i.name for i in model.graph.initializer]
# onnxloss's initializers (class weights, offsets, constants) must not be trained.
requires_grad = [n for n in names if not n.startswith("onnxloss/")]
frozen = [n for n in names if n.startswith("onnxloss/")]
artifacts.generate_artifacts(
    model, requires_grad=requires_grad, frozen_params=frozen, loss=None,
    optimizer=artifacts.OptimType.AdamW, artifact_directory=out)
state = CheckpointState.load_checkpoint(f"{out}/checkpoint")
module = Module(f"{out}/training_model.onnx", state, f"{out}/eval_model.onnx")
opt = Optimizer(f"{out}/optimizer_model.onnx", module)
opt.set_learning_rate(lr)
batch = np.load(batch_path)
inputs = module.input_names()
module.train()
outs = module(*[batch[n] for n in inputs])
loss = outs[0] if isinstance(outs, (list, tuple)) else outs  # the first output is the loss
res = {"loss": np.asarray(loss)}
for n in requires_grad:
    res[n + "_grad"] = state.parameters[n].grad.copy()
opt.step()
for n in requires_grad:
    res[n + "_next"] = state.parameters[n].data.copy()
np.savez(f"{out}/ort_training.npz", **res)
print(" ".join(inputs))

"""onnxloss.step: the step model run in ONNX Runtime (Python) against
PyTorch autograd and torch.optim.AdamW; the CLI's bytes and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from conftest import MODELS, run_cli

C = 5
COUNTS = [500, 120, 7, 40, 3]


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 12)
        self.fc2 = torch.nn.Linear(12, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


@pytest.fixture(scope="module")
def trainable(onnxloss, tmp_path_factory: pytest.TempPathFactory):
    """A torch module exported in training mode (weights stay initializers), with weighted_ce injected."""
    torch.manual_seed(5)
    net = Net()
    path = tmp_path_factory.mktemp("step") / "net.onnx"
    torch.onnx.export(net, torch.randn(2, 8), str(path), input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    model = onnxloss.inject(path, "weighted_ce", COUNTS)
    g = torch.Generator().manual_seed(9)
    x = torch.randn(16, 8, generator=g)
    y = torch.randint(0, C, (16,), generator=g)
    w = 1.0 / np.array(COUNTS, dtype=np.float64)
    w = torch.from_numpy(w * C / w.sum())
    return net, model, x, y, w


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def test_gradients_equal_torch_autograd(onnxloss, trainable) -> None:
    net, model, x, y, w = trainable
    result = onnxloss.step(model, "none")
    assert result.init is None and isinstance(result.model, onnx.ModelProto)
    sess = session(result.model)
    names = [o.name for o in sess.get_outputs()]
    got = dict(zip(names, sess.run(None, {"x": x.numpy(), "labels": y.numpy()})))
    net64 = Net().double()
    net64.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
    loss = F.cross_entropy(net64(x.double()), y, weight=w)
    loss.backward()
    # float32 graph vs float64 autograd on 16 rows: 1e-4 relative covers the rounding.
    np.testing.assert_allclose(got["loss"], loss.item(), rtol=1e-5)
    grads = {f"{k}_grad": p.grad.numpy() for k, p in net64.named_parameters()}
    assert set(grads) <= set(names), names
    for k, g in grads.items():
        np.testing.assert_allclose(got[k], g, rtol=1e-4, atol=1e-6, err_msg=k)


def test_adamw_step_equals_torch_optim(onnxloss, trainable, tmp_path: Path) -> None:
    net, model, x, y, w = trainable
    lr, betas, wd = 0.01, (0.8, 0.99), 0.05
    result = onnxloss.step(model, "adamw", lr=lr, betas=betas, weight_decay=wd,
                           output=tmp_path / "net.step.onnx")
    assert (tmp_path / "net.step.onnx").exists() and (tmp_path / "net.step.init.onnx").exists()
    init_sess = session(result.init)
    state = dict(zip([o.name for o in init_sess.get_outputs()], init_sess.run(None, {})))
    sess = session(result.model)
    feeds = {i.name: state[i.name] for i in sess.get_inputs() if i.name in state}
    feeds.update(x=x.numpy(), labels=y.numpy())
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))

    net64 = Net().double()
    net64.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
    opt = torch.optim.AdamW(net64.parameters(), lr=lr, betas=betas, weight_decay=wd)
    F.cross_entropy(net64(x.double()), y, weight=w).backward()
    opt.step()
    for k, p in net64.named_parameters():
        # One step moves each weight by about lr: float32 rounding of the
        # update is ~1e-9 absolute, far below a wrong update.
        np.testing.assert_allclose(got[f"{k}_next"], p.detach().numpy(), rtol=1e-5, atol=1e-7, err_msg=k)


def test_step_equals_cli_and_its_errors(onnxloss, cli: Path, trainable, tmp_path: Path) -> None:
    _, model, _, _, _ = trainable
    onnx.save(model, str(tmp_path / "m.onnx"))
    run_cli(cli, "step", "--optimizer", "none", "-o", tmp_path / "cli.onnx", tmp_path / "m.onnx")
    assert onnxloss.step(model.SerializeToString(), "none").model == (tmp_path / "cli.onnx").read_bytes()
    # A model without a loss output.
    proc = run_cli(cli, "step", "--optimizer", "none", "-o", tmp_path / "x.onnx", MODELS / "mlp_o13.onnx", check=False)
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.step(MODELS / "mlp_o13.onnx", "none", output=tmp_path / "x.onnx")
    assert (e.value.returncode, e.value.message) == (2, proc.stderr.decode().strip().splitlines()[-1])
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.step(model, "adamw", lr=-1.0)
    assert e.value.returncode == 2 and "lr" in e.value.message

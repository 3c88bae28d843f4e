"""The README's Python example and the shell lines beside it run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import onnx

from conftest import REPO, clean_env, sh

MARKER = "<!-- python-example: python/tests/test_readme.py runs this block -->"


def _blocks() -> tuple[str, str]:
    text = (REPO / "README.md").read_text()
    assert MARKER in text, "the README lost its Python example marker"
    before, after = text.split(MARKER, 1)
    shell = re.findall(r"```sh\n(.*?)```", before, re.S)[-1]
    python = re.match(r"\s*```python\n(.*?)```", after, re.S)
    assert python, "no ```python block right after the marker"
    return shell, python.group(1)


def test_readme_python_example_and_its_shell_twin(system_venv: Path, tmp_path: Path) -> None:
    shell, python = _blocks()
    assert len(python.strip().splitlines()) <= 10
    sh([system_venv / "bin" / "python", "-c", python], cwd=tmp_path)
    model = onnx.load(str(tmp_path / "model.train.onnx"))
    assert model.graph.output[0].name == "loss"
    assert "cb_focal" in dict((p.key, p.value) for p in model.metadata_props)["onnxloss"]

    # The shell lines, on the model the example exported and labels from numpy.
    labels = np.random.default_rng(5).integers(0, 5, size=300)
    (tmp_path / "labels.txt").write_text("".join(f"{x}\n" for x in labels))
    os.remove(tmp_path / "model.train.onnx")
    env = clean_env()
    env["PATH"] = f"{system_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", shell], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "all checks passed" in proc.stdout
    doc = json.loads((tmp_path / "counts.json").read_text())
    assert (doc["counts"] if isinstance(doc, dict) else doc) == np.bincount(labels, minlength=5).tolist()

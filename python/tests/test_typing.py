"""The API's annotations hold under mypy --strict, for the package and for
code that uses it (and mypy does reject a misuse, so the check can fail)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO, clean_env

USE = '''
import onnxloss
raw: bytes = onnxloss.inject(b"model", "cb_focal", [500, 120, 7], ignore_index=-100)
ws: list[float] = onnxloss.weights([500, 120, 7], "effective", beta=0.999)
cs: list[int] = onnxloss.counts([0, 1, 1])
names: list[str] | None = onnxloss.counts([0, 1], classes=["a", "b"]).classes
report: onnxloss.Report = onnxloss.verify(raw, rtol=1e-5)
ok: bool = report.ok and all(c.ok for c in report.checks)
try:
    onnxloss.inject("model.onnx", "focal", cs)
except onnxloss.Error as e:
    code: int | None = e.returncode
'''


def mypy(venv: Path, *args: str) -> subprocess.CompletedProcess:
    # The package as the wheel installed it: mypy finds it through py.typed.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "python" / "pyproject.toml"), "--no-incremental",
         "--python-executable", str(venv / "bin" / "python"), *args],
        capture_output=True, text=True, env=clean_env(), cwd=venv,
    )


def test_mypy_strict(system_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "use.py").write_text(USE)
    (tmp_path / "misuse.py").write_text('import onnxloss\nn: int = onnxloss.weights([1, 2])\n')
    # The sources: mypy reports no errors inside installed packages.
    proc = mypy(system_venv, str(REPO / "python" / "src" / "onnxloss"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = mypy(system_venv, str(tmp_path / "use.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bad = mypy(system_venv, str(tmp_path / "misuse.py"))
    assert bad.returncode == 1 and "incompatible types in assignment" in bad.stdout.lower(), bad.stdout

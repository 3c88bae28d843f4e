"""Fixtures: the wheel (built once, or $ONNXLOSS_WHEEL), a clean venv with
nothing but pip and the wheel, and a venv over the system's site packages
(torch, onnx, numpy) with the wheel, whose onnxloss the tests import."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "testdata" / "models"


def go_version() -> str:
    """inject.Version, read from the Go source (the one place it is set)."""
    m = re.search(r'^var Version = "([^"]+)"$', (REPO / "inject" / "inject.go").read_text(), re.M)
    assert m, "inject.Version not found in inject/inject.go"
    return m.group(1)


def clean_env() -> Dict[str, str]:
    """The environment for venv subprocesses: no development overrides, and
    no pip configuration (so an install cannot fetch anything)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    for k in ("ONNXLOSS_BINARY", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(k, None)
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def sh(args: List[object], **kw) -> subprocess.CompletedProcess:
    """Runs a command, returns it finished; fails the test with its output if it fails."""
    kw.setdefault("env", clean_env())
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        pytest.fail(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel under test: $ONNXLOSS_WHEEL (scripts/test.sh builds it), else built now."""
    given = os.environ.get("ONNXLOSS_WHEEL")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    proc = sh(["bash", REPO / "scripts" / "build-wheel.sh", out], env=dict(os.environ))
    return Path(proc.stdout.strip().splitlines()[-1])


def _make_venv(path: Path, wheel: Path, system_site: bool) -> Path:
    base = getattr(sys, "_base_executable", sys.executable)
    sh([base, "-m", "venv", *(["--system-site-packages"] if system_site else []), path])
    # --no-index with no pip configuration: the wheel must install with
    # nothing but itself.
    sh([path / "bin" / "python", "-m", "pip", "install", "-q", "--no-index", wheel])
    return path


@pytest.fixture(scope="session")
def clean_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A venv with no system site packages: pip, what venv itself adds, and the wheel."""
    return _make_venv(tmp_path_factory.mktemp("clean") / "venv", wheel, system_site=False)


@pytest.fixture(scope="session")
def system_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A venv over the system's site packages (torch, onnx, numpy importable) with the wheel."""
    return _make_venv(tmp_path_factory.mktemp("system") / "venv", wheel, system_site=True)


@pytest.fixture(scope="session")
def onnxloss(system_venv: Path):
    """The onnxloss package installed from the wheel, imported into this process."""
    site = sh([system_venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    site_dir = site.stdout.strip()
    os.environ.pop("ONNXLOSS_BINARY", None)
    sys.path.insert(0, site_dir)
    for name in [m for m in sys.modules if m == "onnxloss" or m.startswith("onnxloss.")]:
        del sys.modules[name]
    import onnxloss as mod

    assert Path(mod.__file__).resolve().is_relative_to(Path(site_dir).resolve()), mod.__file__
    return mod


@pytest.fixture(scope="session")
def cli(system_venv: Path) -> Path:
    """The `onnxloss` console script of the installed wheel: the CLI the API is compared with."""
    return system_venv / "bin" / "onnxloss"


def run_cli(cli: Path, *args: object, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the CLI; bytes stdout/stderr."""
    proc = subprocess.run([str(cli), *map(str, args)], capture_output=True, env=clean_env())
    if check and proc.returncode != 0:
        pytest.fail(f"onnxloss {args} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc

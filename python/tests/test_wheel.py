"""The wheel as a user gets it: its tag and contents, a clean install with
nothing but pip, the console script, and an import that pulls in nothing."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import MODELS, REPO, clean_env, go_version, sh

BINARY = "onnxloss/_bin/onnxloss"


def test_wheel_name_version_and_platform_tag(wheel: Path) -> None:
    name, version, py, abi, plat = wheel.name[: -len(".whl")].split("-")
    assert (name, version, py, abi) == ("onnxloss", go_version(), "py3", "none")
    assert plat != "any"
    # The tags must be ones this machine's pip accepts (else it would refuse
    # to install the wheel here), taken from pip's own tag logic.
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(f"onnxloss-{version}.dist-info/WHEEL").decode()
        assert "Root-Is-Purelib: false" in meta
        info = z.getinfo(BINARY)
        assert (info.external_attr >> 16) & 0o111, "the binary is not executable in the wheel"
        assert "onnxloss/py.typed" in z.namelist()
        entry_points = z.read(f"onnxloss-{version}.dist-info/entry_points.txt").decode()
        assert "onnxloss = onnxloss._cli:main" in entry_points
    if sys.platform.startswith("linux"):
        machine = {"x86_64": "x86_64", "aarch64": "aarch64"}[__import__("platform").machine()]
        assert plat.split(".") == [
            f"manylinux_2_17_{machine}",
            f"manylinux2014_{machine}",
            f"musllinux_1_1_{machine}",
        ]


def _elf_program_header_types(data: bytes) -> list[int]:
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit little-endian ELF"
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]


def test_binary_is_static_trimmed_and_cgo_free(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        data = z.read(BINARY)
    if sys.platform.startswith("linux"):
        types = _elf_program_header_types(data)
        PT_DYNAMIC, PT_INTERP = 2, 3
        assert PT_INTERP not in types and PT_DYNAMIC not in types, "the binary is dynamically linked"
    exe = tmp_path / "onnxloss"
    exe.write_bytes(data)
    # The Go toolchain's own record of how the binary was built.
    go = "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else "go"
    info = sh([go, "version", "-m", exe]).stdout
    assert "build\tCGO_ENABLED=0" in info, info
    assert "build\t-trimpath=true" in info, info
    assert "path\tgithub.com/onnxloss/onnxloss/cmd/onnxloss" in info, info
    assert str(REPO) not in data.decode("latin-1"), "a build path is left in the binary"


def test_clean_venv_has_nothing_but_pip_and_the_wheel(clean_venv: Path) -> None:
    listed = json.loads(sh([clean_venv / "bin" / "python", "-m", "pip", "list", "--format=json"]).stdout)
    names = {p["name"].lower() for p in listed}
    # venv installs pip (and, before Python 3.12, setuptools) by itself.
    assert names - {"pip", "setuptools"} == {"onnxloss"}, names
    for mod in ("onnx", "numpy", "torch"):
        proc = subprocess.run([clean_venv / "bin" / "python", "-c", f"import {mod}"], capture_output=True, env=clean_env())
        assert proc.returncode != 0, f"{mod} is importable in the clean venv: the test proves less than it says"


def test_console_script_version(clean_venv: Path) -> None:
    want = f"onnxloss version {go_version()}"
    assert sh([clean_venv / "bin" / "onnxloss", "--version"]).stdout.strip() == want
    assert sh([clean_venv / "bin" / "python", "-m", "onnxloss", "--version"]).stdout.strip() == want
    # A console script whose directory is not on PATH still finds the binary.
    env = clean_env()
    env["PATH"] = "/nonexistent"
    assert sh([clean_venv / "bin" / "onnxloss", "--version"], env=env).stdout.strip() == want


def test_console_script_passes_exit_codes_and_messages(clean_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text("[500, 120, 7]")
    proc = subprocess.run(
        [clean_venv / "bin" / "onnxloss", "inject", "--loss", "cb_focal", "--counts", tmp_path / "c.json",
         "-o", tmp_path / "out.onnx", MODELS / "mlp_o13.onnx"],
        capture_output=True, text=True, env=clean_env(),
    )
    # The same as the bundled binary run directly: exit 2, its one line.
    site = sh([clean_venv / "bin" / "python", "-c", "import onnxloss; print(onnxloss.binary())"]).stdout.strip()
    direct = subprocess.run([site, *proc.args[1:]], capture_output=True, text=True, env=clean_env())
    assert proc.returncode == direct.returncode == 2
    assert proc.stderr == direct.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "counts give 3" in proc.stderr
    assert not (tmp_path / "out.onnx").exists()


def test_import_pulls_in_neither_torch_nor_onnx(system_venv: Path) -> None:
    # In the venv over the system site packages, where torch, onnx and numpy
    # are importable, so their absence from sys.modules means something.
    code = (
        "import sys, onnxloss, importlib.util\n"
        "assert all(importlib.util.find_spec(m) for m in ('torch', 'onnx', 'numpy'))\n"
        "print(sorted(m for m in ('torch', 'onnx', 'numpy') if m in sys.modules))\n"
    )
    assert sh([system_venv / "bin" / "python", "-c", code]).stdout.strip() == "[]"


def test_bytes_api_without_onnx_or_numpy(clean_venv: Path, tmp_path: Path) -> None:
    """In the clean venv: bytes in, bytes out, equal to the CLI's file."""
    model = MODELS / "mlp_o13.onnx"
    counts = [500, 120, 7, 40, 3]
    (tmp_path / "c.json").write_text(json.dumps(counts))
    sh([clean_venv / "bin" / "onnxloss", "inject", "--loss", "cb_focal", "--counts", tmp_path / "c.json",
        "-o", tmp_path / "cli.onnx", model])
    code = f"""
import onnxloss, sys
model = open({str(model)!r}, "rb").read()
out = onnxloss.inject(model, "cb_focal", {counts!r})
assert isinstance(out, bytes)
from_path = onnxloss.inject({str(model)!r}, "cb_focal", {counts!r})
assert isinstance(from_path, bytes) and from_path == out
assert onnxloss.verify(out).ok
assert onnxloss.counts([0, 1, 1, 4], num_classes=5) == [1, 2, 0, 0, 1]
print(len(onnxloss.weights({counts!r}, "inverse")))
sys.stdout.flush()
open({str(tmp_path / "api.onnx")!r}, "wb").write(out)
assert not any(m in sys.modules for m in ("onnx", "numpy", "torch"))
"""
    assert sh([clean_venv / "bin" / "python", "-c", code]).stdout.strip() == "5"
    assert (tmp_path / "api.onnx").read_bytes() == (tmp_path / "cli.onnx").read_bytes()


def test_wheel_builds_reproducibly(wheel: Path, tmp_path: Path) -> None:
    """A second build of the same sources gives the same bytes."""
    again = Path(sh(["bash", REPO / "scripts" / "build-wheel.sh", tmp_path], env=dict(os.environ)).stdout.strip().splitlines()[-1])
    assert again.name == wheel.name
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(wheel.read_bytes()).hexdigest()

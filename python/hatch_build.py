"""Hatchling build hook: compile the static onnxloss binary into the wheel.

The wheel holds the Go binary for one platform (GOOS/GOARCH from the
environment, else the Go toolchain's own), so it is tagged py3-none-<platform>
instead of being a pure-Python `any` wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Wheel platform tags per Go target. The binary is built with CGO_ENABLED=0, so
# it links nothing: on Linux it runs on any glibc or musl system (manylinux2014
# and musllinux_1_1 are the oldest baselines pip still accepts for upload); Go
# 1.26 needs macOS 12 or later.
PLATFORM_TAGS = {
    ("linux", "amd64"): "manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64",
    ("linux", "arm64"): "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64",
    ("darwin", "amd64"): "macosx_12_0_x86_64",
    ("darwin", "arm64"): "macosx_12_0_arm64",
    ("windows", "amd64"): "win_amd64",
    ("windows", "arm64"): "win_arm64",
}


class GoBinaryBuildHook(BuildHookInterface):
    """Builds cmd/onnxloss with the Go toolchain and adds it as package data."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        if version == "editable":
            raise RuntimeError(
                "onnxloss: editable installs carry no binary: build a wheel with scripts/build-wheel.sh"
            )
        go = os.environ.get("GO") or shutil.which("go") or "/usr/local/go/bin/go"
        if not os.path.exists(go) and shutil.which(go) is None:
            raise RuntimeError("onnxloss: the Go toolchain is needed to build the wheel: install Go >= 1.26 or set GO=/path/to/go")
        goos, goarch = (
            subprocess.run([go, "env", "GOOS", "GOARCH"], check=True, capture_output=True, text=True)
            .stdout.split()
        )
        tag = PLATFORM_TAGS.get((goos, goarch))
        if tag is None:
            known = ", ".join(f"{o}/{a}" for o, a in PLATFORM_TAGS)
            raise RuntimeError(f"onnxloss: no wheel platform tag for GOOS={goos} GOARCH={goarch}: use one of {known}")

        repo = os.path.dirname(os.path.abspath(self.root))
        name = "onnxloss.exe" if goos == "windows" else "onnxloss"
        self._tmp = tempfile.mkdtemp(prefix="onnxloss-wheel-")
        binary = os.path.join(self._tmp, name)
        env = dict(os.environ, CGO_ENABLED="0", GOOS=goos, GOARCH=goarch)
        # -trimpath: no build paths in the binary; -s -w: no symbol table or
        # DWARF (panics still print function names); -buildvcs=false: the same
        # sources give the same bytes whatever the git state.
        subprocess.run(
            [go, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", binary, "./cmd/onnxloss"],
            cwd=repo, env=env, check=True,
        )
        os.chmod(binary, 0o755)
        build_data["force_include"][binary] = f"onnxloss/_bin/{name}"
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{tag}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

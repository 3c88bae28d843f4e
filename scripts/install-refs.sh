#!/usr/bin/env bash
# Installs the independent references onnxloss's tests compare against:
# PyTorch 1.13 + torchvision 0.14 + onnx 1.12 and ONNX's node tests (Debian),
# and ONNX Runtime 1.30 (onnxruntime-node, npm). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
/usr/bin/python3 -c 'import torch, torchvision, onnx' 2>/dev/null || need_apt+=(python3-torch python3-torchvision python3-onnx)
[ -d /usr/share/libonnx-testdata/data/node ] || need_apt+=(libonnx-testdata)
# The Python package's build (hatchling) and tests (pytest, mypy, venvs with pip).
/usr/bin/python3 -c 'import pytest, hatchling, packaging, mypy' 2>/dev/null || need_apt+=(python3-pytest python3-hatchling python3-packaging python3-mypy)
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -f ortharness/node_modules/onnxruntime-node/package.json ]; then
  # .npmrc beside package.json skips onnxruntime-node's CUDA download.
  (cd ortharness && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "references: $(/usr/bin/python3 -c 'import torch, torchvision, onnx, pytest; print("torch", torch.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__, "pytest", pytest.__version__)'), onnxruntime-node $(node -p 'require("./ortharness/node_modules/onnxruntime-node/package.json").version')"

# Python references Debian lacks: a venv over Debian's site packages (so torch
# 1.13 stays importable), pinned, --no-deps so nothing pulls a newer torch.
# One requirement per line in scripts/venv-requirements.txt.
if grep -qv '^\s*\(#\|$\)' scripts/venv-requirements.txt; then
  if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv --system-site-packages .venv
  fi
  if ! cmp -s scripts/venv-requirements.txt .venv/installed-requirements.txt; then
    .venv/bin/pip install -q --disable-pip-version-check --no-deps -r scripts/venv-requirements.txt
    cp scripts/venv-requirements.txt .venv/installed-requirements.txt
  fi
  echo "venv: $(grep -cv '^\s*\(#\|$\)' scripts/venv-requirements.txt) pinned packages in .venv"
fi

# ONNX Runtime's training package in a venv of its own (it ships the same
# `onnxruntime` module as .venv's onnxruntime): scripts/venv-training-requirements.txt.
if [ ! -x .venv-training/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv-training
fi
if ! cmp -s scripts/venv-training-requirements.txt .venv-training/installed-requirements.txt; then
  .venv-training/bin/pip install -q --disable-pip-version-check --no-deps -r scripts/venv-training-requirements.txt
  cp scripts/venv-training-requirements.txt .venv-training/installed-requirements.txt
fi
echo "venv: $(.venv-training/bin/python -c 'import onnxruntime; print("onnxruntime-training", onnxruntime.__version__)') in .venv-training"

#!/usr/bin/env bash
# The long-tailed demonstration of the README: trains a small MLP with four losses
# through onnxloss step models in ONNX Runtime (scripts/demo-longtail.py, .venv's
# onnxruntime), writes docs/longtail.json and draws docs/longtail-recall.png.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
scripts/install-refs.sh >/dev/null
bin=$(mktemp -d)/onnxloss
go build -o "$bin" ./cmd/onnxloss
.venv/bin/python scripts/demo-longtail.py --onnxloss "$bin" --json docs/longtail.json "$@"
go run ./scripts/longtailplot -in docs/longtail.json -o docs/longtail-recall.png
echo "wrote docs/longtail.json and docs/longtail-recall.png" >&2

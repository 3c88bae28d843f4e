#!/usr/bin/env bash
# Exports every architecture of testdata/archs/export.py (opsets 13 and 17;
# cached in testdata/archs/cache, git-ignored) and runs the full
# evaluator-against-ONNX-Runtime check on all 20 models: inject, then
# verify --inputs --expect at the default tolerance must pass on ONNX
# Runtime's outputs and fail with a planted 1e-3 error. The test command
# (scripts/test.sh) runs a subset of it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
CACHE=${ONNXLOSS_ARCHS_CACHE:-testdata/archs/cache}
/usr/bin/python3 testdata/archs/export.py "$CACHE"
ONNXLOSS_ARCHS=all ONNXLOSS_ARCHS_CACHE="$CACHE" ONNXLOSS_REQUIRE_REFS=1 \
  go test -count=1 -timeout 60m -run '^TestArchitecturesAgainstONNXRuntime$' -v ./verify "$@" |
  grep -E '^(=== RUN|--- |    --- |ok|FAIL|PASS)|max\|got-want\||evaluated in'
